#!/usr/bin/env node
// The web console end to end (docs/console.md): a real `secgroup serve` on loopback, driven
// through headless Chromium (Debian's /usr/bin/chromium) by playwright-core. It signs in,
// browses regions, VPCs, groups and members, sees a rule made through the API (a V1-signed
// request, docs/protocol.md §3) appear on reload, has a denied pair explained, draws the
// matrix, reads the audit trail, signs out, and checks that another account's group is
// "not found" by URL. Exit status 0 when every check held.
//
//   SECGROUP_BIN=target/debug/secgroup node tests/console/console.test.js
//   SCREENSHOTS=docs/console node tests/console/console.test.js   # also writes the PNGs
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.resolve(ROOT, process.env.SECGROUP_BIN || 'target/debug/secgroup');
const SHOTS = process.env.SCREENSHOTS ? path.resolve(ROOT, process.env.SCREENSHOTS) : null;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const REGION = 'cn-hangzhou';
const ECS = '2014-05-26';
const VPC = '2016-04-28';
// The whole run, server start to browser close, is bounded.
const DEADLINE_MS = 110_000;

function log(text) {
  process.stderr.write(`[console] ${text}\n`);
}

// ---- the server --------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForServer(base, child) {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`secgroup serve exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/console/signin`);
      if (r.status === 200) return;
    } catch (_) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('secgroup serve did not start within 20 s');
}

// ---- a V1-signed API client (docs/protocol.md §3) ---------------------------------

function encode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

class Api {
  constructor(base, id, secret) {
    Object.assign(this, { base, id, secret });
  }

  async call(version, action, params) {
    const all = {
      Format: 'JSON',
      Version: version,
      AccessKeyId: this.id,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: crypto.randomUUID(),
      Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Action: action,
      RegionId: REGION,
      ...params,
    };
    const canonical = Object.keys(all)
      .sort()
      .map((k) => `${encode(k)}=${encode(all[k])}`)
      .join('&');
    const toSign = `GET&%2F&${encode(canonical)}`;
    const signature = crypto.createHmac('sha1', `${this.secret}&`).update(toSign).digest('base64');
    const r = await fetch(`${this.base}/?${canonical}&Signature=${encode(signature)}`);
    const body = await r.json();
    if (r.status !== 200) throw new Error(`${action}: ${r.status} ${JSON.stringify(body)}`);
    return body;
  }

  ecs(action, params = {}) {
    return this.call(ECS, action, params);
  }

  vpc(action, params = {}) {
    return this.call(VPC, action, params);
  }
}

/// One VPC and vSwitch; groups `web` (members reach each other) and `db` (isolated: it
/// accepts TCP 22 from `web` and drops its own egress TCP 3306); instances web-1, web-2 in
/// `web` and db-1 in `db`.
async function buildNetwork(api) {
  const vpc = (await api.vpc('CreateVpc', { CidrBlock: '10.0.0.0/8', VpcName: 'prod' })).VpcId;
  const vsw = (
    await api.vpc('CreateVSwitch', {
      VpcId: vpc,
      ZoneId: 'cn-hangzhou-b',
      CidrBlock: '10.1.0.0/24',
      VSwitchName: 'app-subnet',
    })
  ).VSwitchId;
  const group = async (name, description, policy) => {
    const id = (await api.ecs('CreateSecurityGroup', { VpcId: vpc, SecurityGroupName: name, Description: description }))
      .SecurityGroupId;
    await api.ecs('ModifySecurityGroupPolicy', { SecurityGroupId: id, InnerAccessPolicy: policy });
    return id;
  };
  const web = await group('web', 'front end', 'Accept');
  const db = await group('db', 'databases', 'Drop');
  await api.ecs('AuthorizeSecurityGroup', {
    SecurityGroupId: web,
    IpProtocol: 'tcp',
    PortRange: '443/443',
    SourceCidrIp: '0.0.0.0/0',
    Priority: '1',
    Description: 'HTTPS from anywhere',
  });
  await api.ecs('AuthorizeSecurityGroup', {
    SecurityGroupId: db,
    IpProtocol: 'tcp',
    PortRange: '22/22',
    SourceGroupId: web,
    Priority: '1',
    Description: 'SSH from the web tier',
  });
  await api.ecs('AuthorizeSecurityGroupEgress', {
    SecurityGroupId: db,
    IpProtocol: 'tcp',
    PortRange: '3306/3306',
    DestCidrIp: '0.0.0.0/0',
    Policy: 'drop',
    Priority: '1',
    Description: 'no outgoing MySQL',
  });
  const run = async (name, sg) =>
    (
      await api.ecs('RunInstances', {
        ImageId: 'aliyun_3_x64_20G_alibase_20240819.vhd',
        InstanceType: 'ecs.g5.large',
        VSwitchId: vsw,
        SecurityGroupId: sg,
        InstanceName: name,
      })
    ).InstanceIdSets.InstanceIdSet[0];
  const instances = { web1: await run('web-1', web), web2: await run('web-2', web), db1: await run('db-1', db) };
  const rules = (await api.ecs('DescribeSecurityGroupAttribute', { SecurityGroupId: db, Direction: 'all' })).Permissions
    .Permission;
  const dropRule = rules.find((p) => p.PortRange === '3306/3306').SecurityGroupRuleId;
  return { vpc, vsw, web, db, dropRule, ...instances };
}

// ---- the browser -------------------------------------------------------------------

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function shot(page, name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  log(`screenshot ${name}.png`);
}

/// Collects anything the page logged as an error (a CSP violation is one), apart from the
/// browser's note on the 401 and 404 answers this test asks for.
function watchErrors(page, errors) {
  const expected = /^Failed to load resource: the server responded with a status of (401|404)/;
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
}

async function signIn(page, base, id, secret) {
  await page.goto(`${base}/console/`);
  assert.match(page.url(), /\/console\/signin$/, 'an anonymous visit goes to the sign-in page');
  // By keyboard: the first Tab reaches the skip link, the fields take typing, Enter sends.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.getByLabel('AccessKey ID').fill(id);
  await page.getByLabel('AccessKey secret').fill(secret);
  await page.getByLabel('AccessKey secret').press('Enter');
  await page.waitForURL(`${base}/console/`);
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'secgroup-console-test-'));
  const database = `sqlite://${path.join(work, 'db.sqlite')}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const keyA = { id: 'LTAIconsoleA0000000001', secret: 'console-a-secret-0123456789' };
  // Account B, made before the server starts (the same database).
  const keyB = JSON.parse(execFileSync(BIN, ['account', 'create', '--database', database], { encoding: 'utf8' }));
  const server = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--database', database], {
    env: {
      ...process.env,
      SECGROUP_ACCESS_KEY_ID: keyA.id,
      SECGROUP_ACCESS_KEY_SECRET: keyA.secret,
      SECGROUP_LOG: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'secgroup-console-chromium-'));
  let browser;
  const errors = [];
  try {
    await waitForServer(base, server);
    log(`secgroup serve on ${base}`);
    const apiA = new Api(base, keyA.id, keyA.secret);
    const apiB = new Api(base, keyB.AccessKeyId, keyB.AccessKeySecret);
    const a = await buildNetwork(apiA);
    const b = await buildNetwork(apiB);

    browser = await chromium.launchPersistentContext(userData, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = browser.pages()[0] || (await browser.newPage());
    watchErrors(page, errors);

    // A wrong secret is refused, with the reason in an alert.
    await page.goto(`${base}/console/signin`);
    await page.getByLabel('AccessKey ID').fill(keyA.id);
    await page.getByLabel('AccessKey secret').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /not right/);
    await shot(page, 'signin');

    // ---- account A ----
    await signIn(page, base, keyA.id, keyA.secret);
    const regions = page.getByRole('table', { name: 'Regions in use' });
    assert.equal(await regions.getByRole('rowheader').innerText(), REGION);
    await shot(page, 'regions');

    await page.getByRole('link', { name: REGION, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `VPCs in ${REGION}` }).waitFor();
    assert.ok(await page.getByRole('heading', { level: 2, name: `${a.vpc} (prod)` }).isVisible());
    const vswitches = page.getByRole('table', { name: `vSwitches of ${a.vpc}` });
    assert.match(await vswitches.innerText(), new RegExp(`${a.vsw}\\s+app-subnet\\s+cn-hangzhou-b\\s+10\\.1\\.0\\.0/24`));
    assert.ok(!(await page.content()).includes(b.vpc), "B's VPC is not on A's page");
    await shot(page, 'vpcs');

    const regionMenu = page.getByRole('navigation', { name: `Region ${REGION}` });
    await regionMenu.getByRole('link', { name: 'Security groups' }).click();
    const groups = page.getByRole('table', { name: `Security groups in ${REGION}` });
    assert.equal(await groups.getByRole('row').count(), 3, 'a heading row and two groups');
    await groups.getByRole('link', { name: a.db }).click();
    await page.getByRole('heading', { level: 1, name: `${a.db} (db)` }).waitFor();
    const inbound = page.getByRole('table', { name: 'Inbound rules' });
    const headings = await inbound.getByRole('columnheader').allInnerTexts();
    assert.deepEqual(headings, ['Policy', 'Priority', 'Protocol', 'Port range', 'Source', 'Description', 'Created']);
    const outbound = page.getByRole('table', { name: 'Outbound rules' });
    assert.deepEqual(
      (await outbound.getByRole('columnheader').allInnerTexts())[4],
      'Destination',
      'outbound rules name their destination',
    );
    assert.match(await outbound.innerText(), /Drop\s+1\s+TCP\s+3306\/3306\s+0\.0\.0\.0\/0\s+no outgoing MySQL/);
    const members = page.getByRole('table', { name: 'Members' });
    assert.match(await members.innerText(), new RegExp(`${a.db1}\\s+db-1\\s+Running\\s+10\\.1\\.0\\.\\d+`));

    // A rule made through the API appears on reload.
    assert.ok(!(await inbound.innerText()).includes('5432/5432'));
    await apiA.ecs('AuthorizeSecurityGroup', {
      SecurityGroupId: a.db,
      IpProtocol: 'tcp',
      PortRange: '5432/5432',
      SourceGroupId: a.web,
      Priority: '10',
      Description: 'PostgreSQL from the web tier',
    });
    await page.reload();
    assert.match(await inbound.innerText(), /Accept\s+10\s+TCP\s+5432\/5432\s+security group sg-\S+\s+PostgreSQL from the web tier/);
    assert.equal(await page.getByRole('heading', { level: 2, name: 'Inbound rules (2)' }).count(), 1);
    await shot(page, 'security-group');

    // Its audit trail, newest first.
    await page.getByRole('link', { name: 'Audit trail of this group' }).click();
    const events = page.getByRole('table', { name: 'Events' });
    const actions = await events.locator('tbody tr > td:nth-child(2)').allInnerTexts();
    assert.match(actions[0], /^AuthorizeSecurityGroup Ecs$/, `newest first: ${actions}`);
    assert.ok(actions.some((t) => t.startsWith('CreateSecurityGroup')), `${actions}`);
    assert.match(await events.innerText(), new RegExp(keyA.id));
    await shot(page, 'audit');

    // Instances: members with their addresses.
    await page.goto(`${base}/console/regions/${REGION}/instances`);
    const listed = await page.getByRole('table', { name: `Instances in ${REGION}` }).innerText();
    for (const id of [a.web1, a.web2, a.db1]) assert.ok(listed.includes(id), id);

    // A denied pair, explained; the deciding rule links to its row.
    await page.getByRole('navigation', { name: `Region ${REGION}` }).getByRole('link', { name: 'Reachability' }).click();
    await page.getByLabel('From (source)').selectOption(a.db1);
    await page.getByLabel('To (destination)').selectOption(a.web1);
    await page.getByLabel('Protocol').selectOption('tcp');
    await page.getByLabel('Port (TCP and UDP)').fill('3306');
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByRole('heading', { level: 2, name: 'Denied' }).waitFor();
    const decided = await page.locator('.decided').innerText();
    assert.ok(decided.includes(`egress rule ${a.dropRule} of ${a.db} (priority 1, Drop)`), decided);
    await shot(page, 'reachability');
    await page.locator('.decided').getByRole('link').click();
    assert.ok(page.url().endsWith(`/security-groups/${a.db}#${a.dropRule}`), page.url());
    assert.equal(await page.evaluate(() => document.querySelector(':target')?.id), a.dropRule);

    // An allowed pair names the rule that lets it through.
    await page.goto(
      `${base}/console/regions/${REGION}/reachability?source=${a.web1}&destination=${a.db1}&protocol=tcp&port=22`,
    );
    await page.getByRole('heading', { level: 2, name: 'Allowed' }).waitFor();

    // The VPC's matrix as a picture.
    await page.goto(`${base}/console/regions/${REGION}/vpcs/${a.vpc}/matrix?protocol=tcp&port=22`);
    const picture = page.getByRole('img', { name: /TCP\/22 in vpc-/ });
    assert.ok(await picture.isVisible(), 'the matrix is drawn');
    assert.match(await page.locator('.summary').innerText(), /TCP\/22: \d+ of 9 pairs/);
    await shot(page, 'matrix');

    await page.getByRole('link', { name: 'Data plane' }).click();
    assert.match(await page.locator('main').innerText(), /Current change revision/);

    // At phone width nothing is wider than the screen: tables scroll in their own box.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/console/regions/${REGION}/security-groups/${a.db}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await shot(page, 'security-group-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/console/signin`);
    await page.goto(`${base}/console/regions/${REGION}/security-groups/${a.db}`);
    assert.match(page.url(), /\/console\/signin$/, 'signed out: no page without signing in again');

    // ---- account B: A's group by URL is not found, as in the API ----
    await signIn(page, base, keyB.AccessKeyId, keyB.AccessKeySecret);
    const theirs = await page.goto(`${base}/console/regions/${REGION}/security-groups/${a.db}`);
    assert.equal(theirs.status(), 404);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'InvalidSecurityGroupId.NotFound');
    await page.goto(`${base}/console/regions/${REGION}/security-groups`);
    const own = await page.getByRole('table', { name: `Security groups in ${REGION}` }).innerText();
    assert.ok(own.includes(b.db) && own.includes(b.web), 'B sees its own groups');
    assert.ok(!own.includes(a.db) && !own.includes(a.web), "B sees none of A's");
    const reach = await page.goto(
      `${base}/console/regions/${REGION}/reachability?source=${b.web1}&destination=${a.db1}&protocol=tcp&port=22`,
    );
    assert.equal(reach.status(), 404, "A's instance is not B's to ask about");

    assert.deepEqual(errors, [], 'the browser logged no error (no CSP violation)');
    log('every check held');
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
    fs.rmSync(userData, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const timer = setTimeout(() => {
  log(`not done within ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS);
main()
  .then(() => {
    clearTimeout(timer);
  })
  .catch((e) => {
    log(e && e.stack ? e.stack : String(e));
    process.exit(1);
  });
