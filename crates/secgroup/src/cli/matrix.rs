//! `secgroup matrix`: who reaches whom among a VPC's instances or some groups' members —
//! `DescribeReachabilityMatrix` of the extension API, as a table and optionally an SVG.

use std::path::PathBuf;

use serde_json::Value;

use secgroup_markup::{self as svg, InstanceLabel, MatrixView};

use super::{pretty, CliError, Client, ClientArgs, Output};

#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("scope").required(true).args(["vpc", "security_groups"])),
    after_help = "Exit status: 0 when the matrix was printed, 2 on any error."
)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Every instance of this VPC.
    #[arg(long)]
    pub vpc: Option<String>,
    /// Every member of any of these groups (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub security_groups: Vec<String>,
    /// tcp, udp, icmp, gre or all.
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Destination port (required for tcp and udp).
    #[arg(long)]
    pub port: Option<u16>,
    /// Source port, for rules that name one.
    #[arg(long)]
    pub source_port: Option<u16>,
    /// Also draw the matrix as an SVG picture into this file.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

/// Reads the server's answer (`Instances.Instance[]`, `Rows.Row[]` of `1`/`0`).
pub fn view_from_answer(answer: &Value, scope: &str) -> Result<MatrixView, CliError> {
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let instances: Vec<InstanceLabel> = answer["Instances"]["Instance"]
        .as_array()
        .ok_or(CliError::Reply("Instances"))?
        .iter()
        .map(|i| InstanceLabel {
            id: text(i, "InstanceId"),
            name: text(i, "InstanceName"),
            status: text(i, "Status"),
        })
        .collect();
    let allowed: Vec<Vec<bool>> = answer["Rows"]["Row"]
        .as_array()
        .ok_or(CliError::Reply("Rows"))?
        .iter()
        .map(|row| {
            row.as_str()
                .unwrap_or("")
                .chars()
                .map(|c| c == '1')
                .collect()
        })
        .collect();
    let square =
        allowed.len() == instances.len() && allowed.iter().all(|r| r.len() == instances.len());
    if !square {
        return Err(CliError::Reply("one row of one cell per instance"));
    }
    let mut traffic = text(answer, "Protocol");
    if let Some(port) = answer["Port"].as_u64() {
        traffic.push_str(&format!("/{port}"));
    }
    if let Some(port) = answer["SourcePort"].as_u64() {
        traffic.push_str(&format!(" from port {port}"));
    }
    Ok(MatrixView {
        title: format!("{traffic} {scope}"),
        instances,
        allowed,
        allowed_count: answer["AllowedCount"].as_u64().unwrap_or(0),
    })
}

/// Asks the server, prints the matrix, and writes the SVG when asked.
pub async fn run(args: &MatrixArgs) -> Result<(), CliError> {
    let client = Client::new(&args.client)?;
    let mut params = vec![
        ("RegionId".to_string(), client.region().to_string()),
        ("Protocol".to_string(), args.protocol.clone()),
    ];
    let scope = match &args.vpc {
        Some(vpc) => {
            params.push(("VpcId".into(), vpc.clone()));
            format!("in {vpc}")
        }
        None => {
            params.push((
                "SecurityGroupIds".into(),
                Value::from(args.security_groups.clone()).to_string(),
            ));
            format!("among members of {}", args.security_groups.join(", "))
        }
    };
    if let Some(port) = args.port {
        params.push(("Port".into(), port.to_string()));
    }
    if let Some(port) = args.source_port {
        params.push(("SourcePort".into(), port.to_string()));
    }
    let answer = client
        .call(secgroup_ext::VERSION, "DescribeReachabilityMatrix", &params)
        .await?;
    let view = view_from_answer(&answer, &scope)?;
    match args.output {
        Output::Json => println!("{}", pretty(&answer)),
        Output::Text => print!("{}", table(&view)),
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, svg::render(&view)).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

pub const ALLOWED_MARK: char = '✔';
pub const DENIED_MARK: char = '·';

fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// Rows are sources, columns destinations. Columns are numbered to stay narrow; the
/// numbers are those of the rows, which carry the names and ids.
pub fn table(view: &MatrixView) -> String {
    let n = view.instances.len();
    let mut out = format!(
        "{}: {} instances, {} of {} pairs allowed ({ALLOWED_MARK} allowed, {DENIED_MARK} denied; rows: source, columns: destination)\n",
        view.title,
        n,
        view.allowed_count,
        n * n
    );
    if n == 0 {
        return out;
    }
    let number_width = n.to_string().len();
    let labels: Vec<String> = view
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| format!("{:>number_width$}  {}", i + 1, inst.full()))
        .collect();
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let cell_width = number_width + 1;
    out.push('\n');
    out.push_str(&" ".repeat(label_width + 1));
    for i in 0..n {
        out.push_str(&format!("{:>cell_width$}", i + 1));
    }
    out.push('\n');
    for (s, label) in labels.iter().enumerate() {
        out.push_str(&pad(label, label_width + 1));
        for d in 0..n {
            let mark = if view.allowed[s][d] {
                ALLOWED_MARK
            } else {
                DENIED_MARK
            };
            out.push_str(&format!("{mark:>cell_width$}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> MatrixView {
        let label = |id: &str, name: &str, status: &str| InstanceLabel {
            id: id.into(),
            name: name.into(),
            status: status.into(),
        };
        MatrixView {
            title: "TCP/22 in vpc-1".into(),
            instances: vec![
                label("i-web", "web <1>", "Running"),
                label("i-db", "", "Stopped"),
            ],
            allowed: vec![vec![true, false], vec![false, false]],
            allowed_count: 1,
        }
    }

    #[test]
    fn the_table_labels_rows_by_name_and_id_and_marks_cells() {
        let out = table(&sample());
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("TCP/22 in vpc-1: 2 instances, 1 of 4 pairs allowed"));
        assert_eq!(lines[1], "");
        assert!(lines[2].trim_start().starts_with("1 2"), "{out}");
        assert!(lines[3].starts_with("1  web <1> (i-web)"), "{out}");
        assert!(lines[3].ends_with("✔ ·"), "{out}");
        assert!(lines[4].starts_with("2  i-db [Stopped]"), "{out}");
        assert!(lines[4].ends_with("· ·"), "{out}");
        assert_eq!(
            out.matches(ALLOWED_MARK).count(),
            1 + 1,
            "legend and one cell"
        );
    }

    #[test]
    fn an_answer_becomes_a_view_and_a_ragged_one_is_refused() {
        let answer = serde_json::json!({
            "Protocol": "TCP", "Port": 22, "AllowedCount": 1,
            "Instances": {"Instance": [
                {"InstanceId": "i-a", "InstanceName": "a", "Status": "Running"},
                {"InstanceId": "i-b", "InstanceName": "b", "Status": "Running"}
            ]},
            "Rows": {"Row": ["01", "00"]}
        });
        let view = view_from_answer(&answer, "in vpc-1").expect("view");
        assert_eq!(view.title, "TCP/22 in vpc-1");
        assert_eq!(view.allowed, vec![vec![false, true], vec![false, false]]);
        let mut ragged = answer.clone();
        ragged["Rows"]["Row"] = serde_json::json!(["01"]);
        assert!(view_from_answer(&ragged, "x").is_err());
    }
}
