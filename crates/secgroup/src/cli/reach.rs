//! `secgroup reach`: can one endpoint reach another, and why — `CheckReachability` of the
//! extension API, in words.

use std::net::IpAddr;

use serde_json::Value;

use super::{pretty, CliError, Client, ClientArgs, Output};

pub const EXIT_STATUS_HELP: &str = "\
Exit status: 0 when the flow is allowed, 1 when it is denied (or an end is not Running),
2 on any error (bad arguments, server unreachable, refused call).";

#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_STATUS_HELP)]
pub struct ReachArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The source: an instance id (i-…) or an IP address.
    #[arg(long)]
    pub from: String,
    /// The destination: an instance id (i-…) or an IP address.
    #[arg(long)]
    pub to: String,
    /// tcp, udp, icmp, gre or all.
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Destination port (required for tcp and udp).
    #[arg(long)]
    pub port: Option<u16>,
    /// Source port, for rules that name one.
    #[arg(long)]
    pub source_port: Option<u16>,
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

/// `<Side>IpAddress` for an address, `<Side>InstanceId` for anything else.
fn endpoint_param(side: &str, value: &str) -> (String, String) {
    let kind = if value.trim().parse::<IpAddr>().is_ok() {
        "IpAddress"
    } else {
        "InstanceId"
    };
    (format!("{side}{kind}"), value.trim().to_string())
}

/// Asks the server and prints the answer; `Ok(true)` when the flow is reachable.
pub async fn run(args: &ReachArgs) -> Result<bool, CliError> {
    let client = Client::new(&args.client)?;
    let mut params = vec![
        ("RegionId".to_string(), client.region().to_string()),
        endpoint_param("Source", &args.from),
        endpoint_param("Destination", &args.to),
        ("Protocol".to_string(), args.protocol.clone()),
    ];
    if let Some(port) = args.port {
        params.push(("Port".into(), port.to_string()));
    }
    if let Some(port) = args.source_port {
        params.push(("SourcePort".into(), port.to_string()));
    }
    let answer = client
        .call(secgroup_ext::VERSION, "CheckReachability", &params)
        .await?;
    let reachable = answer["Reachable"]
        .as_bool()
        .ok_or(CliError::Reply("Reachable"))?;
    match args.output {
        Output::Json => println!("{}", pretty(&answer)),
        Output::Text => print!("{}", text(&answer)),
    }
    Ok(reachable)
}

fn items<'a>(answer: &'a Value, list: &str, item: &str) -> &'a [Value] {
    answer[list][item].as_array().map_or(&[], Vec::as_slice)
}

/// The verdict first, then why: each deciding step (allowed) or blocking element (denied)
/// on its own line, and what the answer does not cover.
pub fn text(answer: &Value) -> String {
    let reachable = answer["Reachable"].as_bool().unwrap_or(false);
    let mut out = format!(
        "{}: {}\n",
        if reachable { "ALLOWED" } else { "DENIED" },
        answer["Summary"].as_str().unwrap_or("")
    );
    let (label, elements) = if reachable {
        ("decided by", items(answer, "DecidingSteps", "Step"))
    } else {
        ("blocked by", items(answer, "BlockingElements", "Element"))
    };
    for e in elements {
        out.push_str(&format!(
            "  {label}: {}\n",
            e["Text"].as_str().unwrap_or("")
        ));
    }
    if let Some(note) = answer["ScopeNote"].as_str().filter(|n| !n.is_empty()) {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ids_pick_their_parameter() {
        assert_eq!(
            endpoint_param("Source", "10.0.0.1"),
            ("SourceIpAddress".into(), "10.0.0.1".into())
        );
        assert_eq!(
            endpoint_param("Destination", "i-abc"),
            ("DestinationInstanceId".into(), "i-abc".into())
        );
    }

    #[test]
    fn a_denied_answer_lists_every_blocker() {
        let answer = serde_json::json!({
            "Reachable": false,
            "Summary": "i-a -> i-b TCP/22 is denied: i-b: ingress rule sgr-1 of sg-1 (priority 1, Drop)",
            "DecidingSteps": {"Step": [{"Text": "decided"}]},
            "BlockingElements": {"Element": [
                {"Kind": "rule", "Text": "i-b: ingress rule sgr-1 of sg-1 (priority 1, Drop)"},
                {"Kind": "default", "Text": "i-a: no egress rule matches: the enterprise group default denies"}
            ]},
            "ScopeNote": ""
        });
        let out = text(&answer);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("DENIED: i-a -> i-b TCP/22 is denied"),
            "{out}"
        );
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[1].contains("blocked by: i-b: ingress rule sgr-1"));
        assert!(lines[2].contains("enterprise group default denies"));
        assert!(!out.contains("decided"));
    }

    #[test]
    fn an_allowed_answer_shows_what_decided_and_the_scope_note() {
        let answer = serde_json::json!({
            "Reachable": true,
            "Summary": "s",
            "DecidingSteps": {"Step": [{"Text": "i-b: ingress rule sgr-2 of sg-1 (priority 1, Accept)"}]},
            "BlockingElements": {"Element": []},
            "ScopeNote": "only security groups are evaluated"
        });
        assert_eq!(
            text(&answer),
            "ALLOWED: s\n  decided by: i-b: ingress rule sgr-2 of sg-1 (priority 1, Accept)\n  note: only security groups are evaluated\n"
        );
    }
}
