//! The pages (docs/console.md §3). Each reads with the session's account only (the store's methods are scoped
//! by account, and an id of another account is the API's "not found"), in one read
//! transaction, then renders.

use std::fmt::Write as _;

use chrono::Utc;
use secgroup_api::render::time;
use secgroup_domain::audit::AuditQuery;
use secgroup_domain::ids::{AccountId, SecurityGroupId};
use secgroup_domain::network::{Instance, InstanceQuery, VSwitch, Vpc};
use secgroup_domain::ops::instances::{settle, InstanceTimings};
use secgroup_domain::ops::{security_groups, vpcs};
use secgroup_domain::rules::{Direction, IpProtocol, Peer, Rule};
use secgroup_domain::{DomainError, ResourceType, Store};
use secgroup_reach::Step;
use secgroup_reach_service::{
    EndpointFacts, EndpointQuery, FlowCheck, FlowQuery, MatrixQuery, MatrixScope,
};
use secgroup_rpc::CredentialStore;

use crate::html::{code, esc, facts, href, href_query, link, row_html, table, Page};
use crate::web::Form;
use crate::{Console, ConsoleError, Session};

/// The page at `segments` (the path after `/console/`).
pub async fn page<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    segments: &[&str],
    q: &Form,
) -> Result<Page, ConsoleError> {
    match segments {
        [] => regions(c, s).await,
        ["dataplane"] => dataplane(c, s).await,
        ["audit"] => audit(c, s, q).await,
        ["regions", r] => vpcs_page(c, s, region(c, r)?).await,
        ["regions", r, "security-groups"] => groups(c, s, region(c, r)?).await,
        ["regions", r, "security-groups", id] => group(c, s, region(c, r)?, id).await,
        ["regions", r, "instances"] => instances(c, s, region(c, r)?).await,
        ["regions", r, "reachability"] => reachability(c, s, region(c, r)?, q).await,
        ["regions", r, "vpcs", id, "matrix"] => matrix(c, s, region(c, r)?, id, q).await,
        _ => Err(ConsoleError::NoPage),
    }
}

/// A region this server offers, or the API's `InvalidRegionId.NotFound`.
fn region<'a, S, C>(c: &Console<S, C>, id: &'a str) -> Result<&'a str, ConsoleError> {
    if c.config.regions.contains(id) {
        Ok(id)
    } else {
        Err(DomainError::RegionNotFound(id.to_string()).into())
    }
}

fn regions_crumb(page: Page) -> Page {
    page.crumb("Regions", href(&[]))
}

fn region_crumbs(page: Page, region: &str) -> Page {
    regions_crumb(page)
        .crumb(region, href(&["regions", region]))
        .in_region(region)
}

/// The account's instances in a region, statuses settled to now (as DescribeInstances
/// shows them).
fn settled(
    tx: &mut dyn secgroup_domain::Tx,
    account: &AccountId,
    region: &str,
    query: &InstanceQuery,
    timings: &InstanceTimings,
) -> Result<Vec<Instance>, DomainError> {
    let now = Utc::now();
    tx.instances(account, region, query)?
        .into_iter()
        .map(|i| settle(i, timings, now).map(|s| s.instance))
        .collect()
}

/// Every instance of the account in the region, settled.
async fn region_instances<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    region: &str,
) -> Result<Vec<Instance>, ConsoleError> {
    let (account, r) = (s.account_id.clone(), region.to_string());
    let timings = c.config.instance_timings;
    c.read(move |tx| settled(tx, &account, &r, &InstanceQuery::default(), &timings))
        .await
}

/// `TCP/22`, `ICMP`.
fn traffic_text(protocol: IpProtocol, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{}/{port}", protocol.as_str()),
        None => protocol.as_str().to_string(),
    }
}

// ---- regions ------------------------------------------------------------------------

async fn regions<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
) -> Result<Page, ConsoleError> {
    let account = s.account_id.clone();
    let ids: Vec<(String, String)> = c
        .config
        .regions
        .all()
        .iter()
        .map(|r| (r.id.clone(), r.name_en.clone()))
        .collect();
    let asked = ids.clone();
    let counts = c
        .read(move |tx| {
            let mut out = Vec::with_capacity(asked.len());
            for (id, _) in &asked {
                out.push((
                    tx.vpcs(&account, id)?.len(),
                    tx.count_security_groups(&account, id)?,
                    tx.count_matching_instances(&account, id, &InstanceQuery::default())?,
                ));
            }
            Ok(out)
        })
        .await?;
    let mut used = Vec::new();
    let mut empty = Vec::new();
    for ((id, name), (vpcs, groups, instances)) in ids.iter().zip(counts) {
        let row = vec![
            link(&href(&["regions", id]), id),
            esc(name),
            vpcs.to_string(),
            if groups > 0 {
                link(
                    &href(&["regions", id, "security-groups"]),
                    &groups.to_string(),
                )
            } else {
                "0".into()
            },
            if instances > 0 {
                link(&href(&["regions", id, "instances"]), &instances.to_string())
            } else {
                "0".into()
            },
        ];
        if vpcs + groups as usize + instances as usize > 0 {
            used.push(row);
        } else {
            empty.push(row);
        }
    }
    let head = ["Region", "Name", "VPCs", "Security groups", "Instances"];
    let body = format!(
        "{}<details class=\"more\"><summary>Regions without resources ({})</summary>{}</details>",
        table(
            "Regions in use",
            &head,
            &used,
            "this account has no resources yet"
        ),
        empty.len(),
        table("Regions without resources", &head, &empty, "none")
    );
    Ok(Page::new("Regions").body(body))
}

// ---- VPCs and vSwitches -------------------------------------------------------------

async fn vpcs_page<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    region: &str,
) -> Result<Page, ConsoleError> {
    let (account, r) = (s.account_id.clone(), region.to_string());
    let (vpcs, vswitches): (Vec<Vpc>, Vec<VSwitch>) = c
        .read(move |tx| Ok((tx.vpcs(&account, &r)?, tx.vswitches(&account, &r)?)))
        .await?;
    let mut body = String::new();
    if vpcs.is_empty() {
        body.push_str("<p class=\"empty\">No VPCs in this region.</p>");
    }
    for vpc in &vpcs {
        let rows: Vec<Vec<String>> = vswitches
            .iter()
            .filter(|v| v.vpc_id == vpc.id)
            .map(|v| {
                vec![
                    code(&v.id),
                    esc(&v.name),
                    esc(&v.zone_id),
                    code(&v.cidr_block),
                    esc(&v.description),
                    esc(&time(&v.creation_time)),
                ]
            })
            .collect();
        let _ = write!(
            body,
            "<section class=\"vpc\" aria-labelledby=\"{id}\"><h2 id=\"{id}\">{title}</h2>{facts}{table}\
<p class=\"actions\">{matrix} · {audit}</p></section>",
            id = esc(&vpc.id),
            title = esc(&labelled(&vpc.id, &vpc.name)),
            facts = facts(&[
                ("IPv4 block", code(&vpc.cidr_block)),
                ("Description", esc(&vpc.description)),
                ("Created", esc(&time(&vpc.creation_time))),
            ]),
            table = table(
                &format!("vSwitches of {}", vpc.id),
                &["vSwitch", "Name", "Zone", "IPv4 block", "Description", "Created"],
                &rows,
                "none",
            ),
            matrix = link(
                &href(&["regions", region, "vpcs", &vpc.id, "matrix"]),
                "Reachability matrix"
            ),
            audit = link(
                &href_query(&["audit"], &[("resource", &vpc.id)]),
                "Audit trail"
            ),
        );
    }
    Ok(region_crumbs(Page::new(format!("VPCs in {region}")), region).body(body))
}

/// `id (name)`, or the id alone.
fn labelled(id: &str, name: &str) -> String {
    if name.is_empty() {
        id.to_string()
    } else {
        format!("{id} ({name})")
    }
}

// ---- security groups ----------------------------------------------------------------

async fn groups<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    region: &str,
) -> Result<Page, ConsoleError> {
    let (account, r) = (s.account_id.clone(), region.to_string());
    let (groups, rules, members) = c
        .read(move |tx| {
            Ok((
                tx.security_groups(&account, &r)?,
                tx.rule_counts(&account, &r)?,
                tx.member_counts(&account, &r)?,
            ))
        })
        .await?;
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let id = SecurityGroupId::from(&g.id);
            vec![
                link(&href(&["regions", region, "security-groups", &g.id]), &g.id),
                esc(&g.name),
                esc(group_type(g.group_type)),
                code(&g.vpc_id),
                members.get(&id).copied().unwrap_or(0).to_string(),
                rules.get(&id).map_or(0, |(all, _)| *all).to_string(),
                esc(&g.description),
                esc(&time(&g.creation_time)),
            ]
        })
        .collect();
    let body = table(
        &format!("Security groups in {region}"),
        &[
            "Security group",
            "Name",
            "Type",
            "VPC",
            "Members",
            "Rules",
            "Description",
            "Created",
        ],
        &rows,
        "no security groups in this region",
    );
    Ok(region_crumbs(Page::new(format!("Security groups in {region}")), region).body(body))
}

fn group_type(t: secgroup_domain::SecurityGroupType) -> &'static str {
    match t {
        secgroup_domain::SecurityGroupType::Normal => "Basic",
        secgroup_domain::SecurityGroupType::Enterprise => "Advanced",
    }
}

async fn group<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    region: &str,
    id: &str,
) -> Result<Page, ConsoleError> {
    let (account, r, gid) = (
        s.account_id.clone(),
        region.to_string(),
        SecurityGroupId::new(id),
    );
    let timings = c.config.instance_timings;
    let (group, tags, mut rules, members) = c
        .read(move |tx| {
            // As DescribeSecurityGroupAttribute finds it: this account's, in this region.
            let group = security_groups::get(tx, &account, &r, &gid)?;
            let tags = tx.tags(&account, ResourceType::SecurityGroup, &group.id)?;
            let rules = tx.rules(&account, &gid)?;
            let members = settled(
                tx,
                &account,
                &r,
                &InstanceQuery {
                    security_group_id: Some(group.id.clone()),
                    ..InstanceQuery::default()
                },
                &timings,
            )?;
            Ok((group, tags, rules, members))
        })
        .await?;
    // As the console of the cloud lists them: the highest priority (smallest number) first.
    rules.sort_by_key(|r| (r.spec.priority, r.create_time));
    let tag_text = if tags.is_empty() {
        "none".to_string()
    } else {
        tags.iter()
            .map(|t| format!("{}: {}", t.key, t.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut body = facts(&[
        ("ID", code(&group.id)),
        ("Name", esc(&group.name)),
        ("Type", esc(group_type(group.group_type))),
        ("VPC", code(&group.vpc_id)),
        ("Internal access", esc(group.inner_access_policy.as_str())),
        ("Description", esc(&group.description)),
        ("Tags", esc(&tag_text)),
        ("Created", esc(&time(&group.creation_time))),
    ]);
    let _ = write!(
        body,
        "<p class=\"actions\">{}</p>",
        link(
            &href_query(&["audit"], &[("resource", &group.id)]),
            "Audit trail of this group"
        )
    );
    for (direction, heading, peer_column) in [
        (Direction::Ingress, "Inbound", "Source"),
        (Direction::Egress, "Outbound", "Destination"),
    ] {
        let chosen: Vec<&Rule> = rules
            .iter()
            .filter(|r| r.spec.direction == direction)
            .collect();
        let _ = write!(
            body,
            "<section aria-labelledby=\"{dir}\"><h2 id=\"{dir}\">{heading} rules ({n})</h2>",
            dir = direction.as_str(),
            n = chosen.len()
        );
        body.push_str(&rules_table(
            &format!("{heading} rules"),
            peer_column,
            &chosen,
            region,
        ));
        body.push_str("</section>");
    }
    let rows: Vec<Vec<String>> = members.iter().map(instance_row).collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"members\"><h2 id=\"members\">Members ({})</h2>{}</section>",
        members.len(),
        table(
            "Members",
            &INSTANCE_HEAD,
            &rows,
            "no instance is in this group"
        )
    );
    let title = labelled(&group.id, &group.name);
    let page = region_crumbs(Page::new(title), region).crumb(
        "Security groups",
        href(&["regions", region, "security-groups"]),
    );
    Ok(page.body(body))
}

/// The rules in the columns of the cloud's console; each row is the target `#sgr-…`.
fn rules_table(caption: &str, peer_column: &str, rules: &[&Rule], region: &str) -> String {
    if rules.is_empty() {
        return table(caption, &[], &[], "none");
    }
    let head = [
        "Policy",
        "Priority",
        "Protocol",
        "Port range",
        peer_column,
        "Description",
        "Created",
    ];
    let mut o = format!(
        "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{c}\"><table class=\"rules\"><caption>{c}</caption><thead><tr>",
        c = esc(caption)
    );
    for h in head {
        let _ = write!(o, "<th scope=\"col\">{}</th>", esc(h));
    }
    o.push_str("</tr></thead><tbody>");
    for rule in rules {
        let spec = &rule.spec;
        let mut ports = esc(&spec.port_range.to_string());
        if let Some(source) = spec.source_port_range {
            let _ = write!(ports, " (source ports {})", esc(&source.to_string()));
        }
        let policy = format!(
            "<span class=\"policy {}\">{}</span>",
            spec.policy.as_str().to_ascii_lowercase(),
            esc(spec.policy.as_str())
        );
        o.push_str(&row_html(
            &[
                policy,
                spec.priority.to_string(),
                esc(spec.protocol.as_str()),
                ports,
                peer(rule, region),
                esc(&spec.description),
                format!(
                    "{}<br><span class=\"rule-id\">{}</span>",
                    esc(&time(&rule.create_time)),
                    esc(&rule.id)
                ),
            ],
            Some(&rule.id),
        ));
    }
    o.push_str("</tbody></table></div>");
    o
}

/// The rule's peer: an address block, a group (linked when it is the account's own), or a
/// prefix list; a quintuple rule's own block after it.
fn peer(rule: &Rule, region: &str) -> String {
    let mut out = match &rule.spec.peer {
        Peer::Cidr(cidr) => code(cidr.as_str()),
        Peer::Group {
            group_id,
            owner_account,
        } if owner_account.is_empty() => format!(
            "security group {}",
            link(
                &href(&["regions", region, "security-groups", group_id]),
                group_id
            )
        ),
        Peer::Group {
            group_id,
            owner_account,
        } => format!(
            "security group {} of account {}",
            code(group_id),
            esc(owner_account)
        ),
        Peer::PrefixList(id) => format!("prefix list {}", code(id)),
    };
    if let Some(local) = &rule.spec.local_cidr {
        let side = match rule.spec.direction {
            Direction::Ingress => "to",
            Direction::Egress => "from",
        };
        let _ = write!(out, " ({side} {})", code(local.as_str()));
    }
    out
}

// ---- instances ----------------------------------------------------------------------

const INSTANCE_HEAD: [&str; 7] = [
    "Instance",
    "Name",
    "Status",
    "Private address",
    "vSwitch",
    "Security groups",
    "Audit",
];

fn instance_row(i: &Instance) -> Vec<String> {
    let groups = i
        .security_group_ids
        .iter()
        .map(|g| link(&href(&["regions", &i.region_id, "security-groups", g]), g))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        code(&i.id),
        esc(&i.name),
        format!(
            "<span class=\"status {}\">{}</span>",
            i.status.as_str().to_ascii_lowercase(),
            esc(i.status.as_str())
        ),
        code(&i.private_ip),
        code(&i.vswitch_id),
        groups,
        link(
            &href_query(&["audit"], &[("resource", &i.id)]),
            "Audit trail",
        ),
    ]
}

async fn instances<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    region: &str,
) -> Result<Page, ConsoleError> {
    let list = region_instances(c, s, region).await?;
    let rows: Vec<Vec<String>> = list.iter().map(instance_row).collect();
    let body = table(
        &format!("Instances in {region}"),
        &INSTANCE_HEAD,
        &rows,
        "no instances in this region",
    );
    Ok(region_crumbs(Page::new(format!("Instances in {region}")), region).body(body))
}

// ---- reachability -------------------------------------------------------------------

const PROTOCOLS: [&str; 5] = ["tcp", "udp", "icmp", "gre", "all"];

/// Protocol and port of a query (`tcp` and 22 when not given); a port only for TCP/UDP.
fn traffic(q: &Form) -> Result<(IpProtocol, Option<u16>), ConsoleError> {
    let text = q.non_empty("protocol").unwrap_or("tcp");
    let protocol = IpProtocol::parse(text)
        .filter(|p| PROTOCOLS.contains(&p.as_str().to_ascii_lowercase().as_str()))
        .ok_or_else(|| {
            ConsoleError::BadInput(format!(
                "{text:?} is no protocol here: choose one of tcp, udp, icmp, gre, all"
            ))
        })?;
    if !protocol.has_ports() {
        return Ok((protocol, None));
    }
    let port = q.non_empty("port").unwrap_or("22");
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| {
            ConsoleError::BadInput(format!("the port {port:?} is not a number from 1 to 65535"))
        })?;
    Ok((protocol, Some(port)))
}

/// The protocol menu and the port field of a form.
fn traffic_fields(protocol: IpProtocol, port: Option<u16>) -> String {
    let mut o = String::from(
        "<p><label for=\"protocol\">Protocol</label><select id=\"protocol\" name=\"protocol\">",
    );
    for p in PROTOCOLS {
        let selected = if protocol.as_str().eq_ignore_ascii_case(p) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            o,
            "<option value=\"{p}\"{selected}>{}</option>",
            p.to_ascii_uppercase()
        );
    }
    let _ = write!(
        o,
        "</select></p><p><label for=\"port\">Port (TCP and UDP)</label>\
<input id=\"port\" name=\"port\" type=\"number\" min=\"1\" max=\"65535\" inputmode=\"numeric\" value=\"{}\"></p>",
        port.unwrap_or(22)
    );
    o
}

async fn reachability<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    region: &str,
    q: &Form,
) -> Result<Page, ConsoleError> {
    let list = region_instances(c, s, region).await?;
    let (source, destination) = (q.non_empty("source"), q.non_empty("destination"));
    let (protocol, port) = traffic(q)?;
    let select = |name: &str, label: &str, chosen: Option<&str>| {
        let mut o = format!(
            "<p><label for=\"{name}\">{label}</label><select id=\"{name}\" name=\"{name}\" required><option value=\"\">Choose an instance</option>"
        );
        for i in &list {
            let selected = if Some(i.id.as_str()) == chosen {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                o,
                "<option value=\"{}\"{selected}>{} — {} [{}]</option>",
                esc(&i.id),
                esc(&labelled(&i.id, &i.name)),
                esc(&i.private_ip),
                esc(i.status.as_str())
            );
        }
        o.push_str("</select></p>");
        o
    };
    let mut body = format!(
        "<form class=\"query\" method=\"get\" action=\"{}\">{}{}{}<p><button type=\"submit\">Check</button></p></form>",
        href(&["regions", region, "reachability"]),
        select("source", "From (source)", source),
        select("destination", "To (destination)", destination),
        traffic_fields(protocol, port),
    );
    if let (Some(source), Some(destination)) = (source, destination) {
        let query = FlowQuery {
            source: EndpointQuery::Instance(source.to_string()),
            destination: EndpointQuery::Instance(destination.to_string()),
            protocol,
            port,
            source_port: None,
        };
        let check = c
            .reachability
            .ask(&s.account_id, region, move |network, now| {
                network.check(&query, now)
            })
            .await??;
        body.push_str(&verdict_section(&check, protocol, port, region));
    }
    Ok(region_crumbs(Page::new(format!("Reachability in {region}")), region).body(body))
}

/// The answer: the outcome, the deciding rule (or default), what blocks, each direction.
fn verdict_section(
    check: &FlowCheck,
    protocol: IpProtocol,
    port: Option<u16>,
    region: &str,
) -> String {
    let verdict = &check.verdict;
    let (word, class) = if check.reachable() {
        ("Allowed", "allowed")
    } else if verdict.allowed {
        ("Unreachable", "denied")
    } else {
        ("Denied", "denied")
    };
    let traffic = traffic_text(protocol, port);
    let at = |step: &Step| -> Option<String> {
        let end = match step {
            Step::Rule { direction, .. } | Step::Default { direction, .. } => match direction {
                Direction::Egress => &check.source,
                Direction::Ingress => &check.destination,
            },
            Step::DifferentVpc { .. } | Step::InnerAccess { .. } => return None,
        };
        Some(end.label())
    };
    let step_html = |step: &Step| -> String {
        let mut text = match at(step) {
            Some(end) => format!("{}: {}", esc(&end), esc(&step.to_string())),
            None => esc(&step.to_string()),
        };
        if let Step::Rule {
            group_id, rule_id, ..
        } = step
        {
            let target = format!(
                "{}#{}",
                href(&["regions", region, "security-groups", group_id]),
                esc(rule_id)
            );
            let _ = write!(
                text,
                " — <a href=\"{target}\">see the rule in {}</a>",
                esc(group_id)
            );
        }
        text
    };
    let mut o = format!(
        "<section class=\"verdict {class}\" aria-labelledby=\"result\"><h2 id=\"result\">{word}</h2>\
<p class=\"flow\">{} → {} on {}</p>",
        esc(&check.source.label()),
        esc(&check.destination.label()),
        esc(&traffic)
    );
    for end in &check.not_running {
        let _ = write!(
            o,
            "<p class=\"not-running\">{} is {}: only a Running instance sends or receives traffic.</p>",
            esc(&end.label()),
            esc(end.status.as_str())
        );
    }
    let _ = write!(
        o,
        "<h3>Decided by</h3><p class=\"decided\">{}</p>",
        step_html(&verdict.decided_by)
    );
    if !verdict.blocking.is_empty() {
        o.push_str("<h3>Blocked by</h3><ul class=\"blocking\">");
        for step in &verdict.blocking {
            let _ = write!(o, "<li>{}</li>", step_html(step));
        }
        o.push_str("</ul>");
    }
    let rows: Vec<Vec<String>> = [&verdict.egress, &verdict.ingress]
        .into_iter()
        .flatten()
        .map(|outcome| {
            let steps = outcome
                .steps
                .iter()
                .map(|s| esc(&s.to_string()))
                .collect::<Vec<_>>()
                .join("<br>");
            vec![
                esc(match outcome.direction {
                    Direction::Egress => "Outbound (source)",
                    Direction::Ingress => "Inbound (destination)",
                }),
                code(&outcome.instance_id),
                esc(if outcome.allows { "allows" } else { "denies" }),
                steps,
            ]
        })
        .collect();
    if !rows.is_empty() {
        o.push_str(&table(
            "Each direction",
            &[
                "Direction",
                "Instance",
                "Outcome",
                "Winning rules or default",
            ],
            &rows,
            "",
        ));
    }
    if let Some(note) = verdict.scope_note {
        let _ = write!(o, "<p class=\"note\">{}</p>", esc(note));
    }
    if let (EndpointFacts::Instance(a), EndpointFacts::Instance(b)) =
        (&check.source, &check.destination)
    {
        if a.vpc_id == b.vpc_id {
            let _ = write!(
                o,
                "<p class=\"actions\">{}</p>",
                link(
                    &href_query(
                        &["regions", region, "vpcs", &a.vpc_id, "matrix"],
                        &[
                            ("protocol", &protocol.as_str().to_ascii_lowercase()),
                            ("port", &port.map(|p| p.to_string()).unwrap_or_default()),
                        ],
                    ),
                    "The whole VPC on this traffic"
                )
            );
        }
    }
    o.push_str("</section>");
    o
}

async fn matrix<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    region: &str,
    vpc_id: &str,
    q: &Form,
) -> Result<Page, ConsoleError> {
    let (protocol, port) = traffic(q)?;
    let (account, r, id) = (
        s.account_id.clone(),
        region.to_string(),
        secgroup_domain::ids::VpcId::new(vpc_id),
    );
    let vpc = c
        .read(move |tx| vpcs::get(tx, &account, Some(&r), &id))
        .await?;
    let query = MatrixQuery {
        scope: MatrixScope::Vpc(vpc.id.clone()),
        protocol,
        port,
        source_port: None,
    };
    let max = c.config.max_matrix_instances;
    let answer = c
        .reachability
        .ask(&s.account_id, region, move |network, now| {
            network.matrix(&query, max, now)
        })
        .await??;
    let traffic = traffic_text(protocol, port);
    let n = answer.instances.len();
    let view = secgroup_markup::MatrixView {
        title: format!("{traffic} in {}", vpc.id),
        instances: answer
            .instances
            .iter()
            .map(|i| secgroup_markup::InstanceLabel {
                id: i.id.clone(),
                name: i.name.clone(),
                status: i.status.as_str().to_string(),
            })
            .collect(),
        allowed: (0..n)
            .map(|s| (0..n).map(|d| answer.allowed(s, d)).collect())
            .collect(),
        allowed_count: answer.allowed_count,
    };
    let mut body = format!(
        "<form class=\"query inline\" method=\"get\" action=\"{}\">{}<p><button type=\"submit\">Show</button></p></form>",
        href(&["regions", region, "vpcs", &vpc.id, "matrix"]),
        traffic_fields(protocol, port)
    );
    let _ = write!(
        body,
        "<p class=\"summary\">{traffic}: {} of {} pairs of the {n} instances are allowed (rows: source, columns: destination).</p>",
        answer.allowed_count,
        n * n
    );
    if n > 0 {
        let _ = write!(
            body,
            "<figure class=\"matrix\"><div class=\"matrix-scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Matrix picture\">{}</div>\
<figcaption>Green: the source reaches the destination; pale red: it does not. An instance that is not Running reaches nothing.</figcaption></figure>",
            secgroup_markup::render_element(&view)
        );
    }
    let page = region_crumbs(
        Page::new(format!(
            "Reachability matrix of {}",
            labelled(&vpc.id, &vpc.name)
        )),
        region,
    );
    Ok(page.body(body))
}

// ---- audit trail --------------------------------------------------------------------

/// Events shown per page.
const AUDIT_PAGE: u32 = 50;

async fn audit<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
    q: &Form,
) -> Result<Page, ConsoleError> {
    let resource = q
        .non_empty("resource")
        .ok_or_else(|| ConsoleError::BadInput("name a resource: ?resource=sg-…".into()))?
        .to_string();
    if resource.len() > 128 {
        return Err(ConsoleError::BadInput(
            "a resource id is at most 128 characters".into(),
        ));
    }
    let before = match q.non_empty("before") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ConsoleError::BadInput(format!("{text:?} is not an event number")))?,
        ),
    };
    let (account, query) = (
        s.account_id.clone(),
        AuditQuery {
            resource_id: Some(resource.clone()),
            before_seq: before,
            limit: AUDIT_PAGE,
            ..AuditQuery::default()
        },
    );
    let events = c
        .read(move |tx| Ok(tx.audit_events(&account, &query)?))
        .await?;
    let mut o = format!(
        "<p>Every change that named {} (newest first), and every refused one. Reads are not recorded.</p>",
        code(&resource)
    );
    if events.is_empty() {
        o.push_str("<p class=\"empty\">No events.</p>");
    } else {
        o.push_str(
            "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"Events\"><table class=\"audit\"><caption>Events</caption><thead><tr>",
        );
        for h in [
            "Time",
            "Action",
            "Result",
            "AccessKey ID",
            "Source address",
            "Request ID",
            "Parameters",
        ] {
            let _ = write!(o, "<th scope=\"col\">{h}</th>");
        }
        o.push_str("</tr></thead><tbody>");
        for e in &events {
            let result = match &e.error_code {
                None => "<span class=\"ok\">Success</span>".to_string(),
                Some(code) => format!("<span class=\"failed\">{}</span>", esc(code)),
            };
            let parameters = serde_json::from_str::<serde_json::Value>(&e.parameters)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| e.parameters.clone());
            o.push_str(&row_html(
                &[
                    esc(&time(&e.time)),
                    format!(
                        "{} <span class=\"product\">{}</span>",
                        esc(&e.action),
                        esc(&e.product)
                    ),
                    result,
                    code(&e.access_key_id),
                    esc(&e.source_ip),
                    code(&e.request_id),
                    format!(
                        "<details><summary>Show</summary><pre>{}</pre></details>",
                        esc(&parameters)
                    ),
                ],
                None,
            ));
        }
        o.push_str("</tbody></table></div>");
        if events.len() == AUDIT_PAGE as usize {
            if let Some(last) = events.last() {
                let _ = write!(
                    o,
                    "<p class=\"actions\">{}</p>",
                    link(
                        &href_query(
                            &["audit"],
                            &[("resource", &resource), ("before", &last.seq.to_string())]
                        ),
                        "Older events"
                    )
                );
            }
        }
    }
    Ok(regions_crumb(Page::new(format!("Audit trail of {resource}"))).body(o))
}

// ---- data plane ---------------------------------------------------------------------

async fn dataplane<S: Store, C: CredentialStore>(
    c: &Console<S, C>,
    s: &Session,
) -> Result<Page, ConsoleError> {
    // One snapshot, as DescribeDataplaneStatus reads it.
    let now = Utc::now();
    let (timings, policy) = (c.config.instance_timings, c.config.placement);
    let account_id = s.account_id.clone();
    let (revision, agents, hosts) = c
        .read(move |tx| {
            let hosts = secgroup_domain::ops::placement::account_hosts(
                tx,
                &account_id,
                &timings,
                &policy,
                now,
            )?;
            Ok((tx.revision()?, tx.agent_statuses()?, hosts))
        })
        .await?;
    let account = s.account_id.as_str();
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            let current = a.applied_revision >= revision;
            vec![
                code(&a.agent_id),
                esc(&a.host),
                a.applied_revision.to_string(),
                if current {
                    "<span class=\"ok\">up to date</span>".into()
                } else {
                    format!(
                        "<span class=\"failed\">{} behind</span>",
                        revision - a.applied_revision
                    )
                },
                esc(&a.last_applied_time.as_ref().map(time).unwrap_or_default()),
                a.instance_counts
                    .get(account)
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
                esc(&a.last_error),
                esc(&a.underlay_address),
                if policy.is_alive(a.updated_at, now) {
                    "<span class=\"ok\">alive</span>".into()
                } else {
                    "<span class=\"failed\">away</span>".into()
                },
                hosts.placed.get(&a.host).map_or(0, Vec::len).to_string(),
            ]
        })
        .collect();
    let body = format!(
        "{}{}",
        facts(&[
            ("Current change revision", revision.to_string()),
            (
                "Host timeout",
                format!("{} s", policy.host_timeout.as_secs()),
            ),
            (
                "Your instances placed nowhere",
                hosts.unplaced.len().to_string(),
            ),
        ]),
        table(
            "Data-plane agents",
            &[
                "Agent",
                "Host",
                "Applied revision",
                "State",
                "Last applied",
                "Your running instances it enforces",
                "Last error",
                "Underlay address",
                "Host state",
                "Your instances placed there",
            ],
            &rows,
            "no agent has reported (secgroup agent is not running)"
        )
    );
    Ok(regions_crumb(Page::new("Data plane")).body(body))
}
