#!/usr/bin/env node
// Long-lived helper that drives the official npm ECS SDK (@alicloud/ecs20140526) for the
// conformance suite. One JSON request per line on stdin, one JSON answer per line on stdout.
//
// Request:  {"id": 1, "action": "CreateSecurityGroup", "params": {...wire-named map...},
//            "accessKeyId": "...", "accessKeySecret": "...", "regionId": "cn-hangzhou"}
// Answer:   {"id": 1, "ok": true, "statusCode": 200, "body": <response body toMap()>}
//        or {"id": 1, "ok": false, "code": ..., "message": ..., "statusCode": ...,
//            "requestId": ..., "data": <the parsed error body>, "errorName": "ClientError"}
//
// Usage: node driver.js --endpoint 127.0.0.1:PORT [--signature-algorithm v2]
//
// The params map uses the wire (PascalCase) names, which are exactly the keys that the
// generated models' static names() map to; $dara.cast(map, new XxxRequest({})) turns it into a
// model, recursively for nested lists such as Tag: [{Key, Value}].
'use strict';

const path = require('path');
const readline = require('readline');

const ecsEntry = require.resolve('@alicloud/ecs20140526');
const fromEcs = (name) => require(require.resolve(name, { paths: [path.dirname(ecsEntry)] }));
const Ecs = require(ecsEntry);
const EcsClient = Ecs.default;
const core = fromEcs('@alicloud/openapi-core');
const $dara = fromEcs('@darabonba/typescript');

function parseArgs(argv) {
  const out = { endpoint: null, signatureAlgorithm: null };
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--endpoint') out.endpoint = argv[++i];
    else if (argv[i] === '--signature-algorithm') out.signatureAlgorithm = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!out.endpoint) throw new Error('--endpoint is required');
  return out;
}

const args = parseArgs(process.argv);
const clients = new Map();

function clientFor(accessKeyId, accessKeySecret, regionId) {
  const key = JSON.stringify([accessKeyId, accessKeySecret, regionId]);
  let client = clients.get(key);
  if (!client) {
    const cfg = {
      accessKeyId,
      accessKeySecret,
      endpoint: args.endpoint,
      protocol: 'http',
      regionId,
      readTimeout: 20000,
      connectTimeout: 5000,
    };
    if (args.signatureAlgorithm) cfg.signatureAlgorithm = args.signatureAlgorithm;
    client = new EcsClient(new core.$OpenApiUtil.Config(cfg));
    clients.set(key, client);
  }
  return client;
}

function lowerFirst(s) {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function safeData(data) {
  try {
    return JSON.parse(JSON.stringify(data === undefined ? null : data));
  } catch (e) {
    return String(data);
  }
}

async function handle(req) {
  const RequestClass = Ecs[`${req.action}Request`];
  const method = lowerFirst(req.action);
  const client = clientFor(req.accessKeyId, req.accessKeySecret, req.regionId);
  if (!RequestClass || typeof client[method] !== 'function') {
    return { ok: false, driverError: `the SDK has no operation ${req.action}` };
  }
  const model = $dara.cast(req.params || {}, new RequestClass({}));
  try {
    const resp = await client[method](model);
    const body = resp && resp.body ? resp.body.toMap() : null;
    return { ok: true, statusCode: resp ? resp.statusCode : null, body };
  } catch (e) {
    return {
      ok: false,
      errorName: e && e.name,
      code: e && e.code !== undefined ? e.code : null,
      message: e && e.message !== undefined ? String(e.message) : String(e),
      statusCode: e && e.statusCode !== undefined ? e.statusCode : null,
      requestId: e && e.requestId !== undefined ? e.requestId : null,
      data: safeData(e && e.data),
    };
  }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
let chain = Promise.resolve();
rl.on('line', (line) => {
  if (!line.trim()) return;
  // Requests are answered strictly in order.
  chain = chain.then(async () => {
    let req;
    let answer;
    try {
      req = JSON.parse(line);
      answer = await handle(req);
    } catch (e) {
      answer = { ok: false, driverError: String(e && e.stack ? e.stack : e) };
    }
    answer.id = req ? req.id : null;
    process.stdout.write(JSON.stringify(answer) + '\n');
  });
});
rl.on('close', () => {
  chain.then(() => process.exit(0));
});
process.stdout.write(JSON.stringify({ ready: true, sdk: require(path.join(path.dirname(ecsEntry), '..', 'package.json')).version }) + '\n');
