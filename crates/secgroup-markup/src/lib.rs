//! Markup the renderers share (the CLI, the review's page, the web console): [`escape`] for
//! any text put in HTML or XML, and the reachability matrix as an SVG picture, written by
//! hand: a grid of cells in two colours, instances labelled on both axes (sources left,
//! destinations on top), a title and a legend. Sizes are estimated from a monospace font,
//! so no font metrics are needed.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

/// One instance of the matrix, as labelled on its axes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceLabel {
    pub id: String,
    pub name: String,
    pub status: String,
}

impl InstanceLabel {
    /// `name (id)`, or the id alone; a state other than Running in brackets.
    pub fn full(&self) -> String {
        let mut out = if self.name.is_empty() {
            self.id.clone()
        } else {
            format!("{} ({})", self.name, self.id)
        };
        if self.status != "Running" {
            out.push_str(&format!(" [{}]", self.status));
        }
        out
    }
}

/// The matrix as the renderers need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixView {
    /// What was asked, e.g. `TCP/22 in vpc-…`.
    pub title: String,
    pub instances: Vec<InstanceLabel>,
    /// `allowed[source][destination]`.
    pub allowed: Vec<Vec<bool>>,
    pub allowed_count: u64,
}

pub const ALLOWED_FILL: &str = "#2f9e44";
pub const DENIED_FILL: &str = "#f1d4d4";

const CELL: usize = 22;
const FONT_SIZE: usize = 12;
/// Width of one character of a 12px monospace font, rounded up.
const CHAR_WIDTH: usize = 8;
const MARGIN: usize = 16;
const TITLE_HEIGHT: usize = 28;
const LEGEND_HEIGHT: usize = 40;

/// Escapes text for an element's content or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The picture as a file of its own (`<?xml …?>` first).
pub fn render(view: &MatrixView) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        render_element(view)
    )
}

/// The `<svg>` element alone, to be placed inside an HTML page: an image (`role="img"`)
/// named by its `<title>` (what was asked, and how many pairs are allowed).
pub fn render_element(view: &MatrixView) -> String {
    let n = view.instances.len();
    let labels: Vec<String> = view.instances.iter().map(|i| i.full()).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let label_room = longest * CHAR_WIDTH + 10;
    let grid_left = MARGIN + label_room;
    let grid_top = MARGIN + TITLE_HEIGHT + label_room;
    let grid = n * CELL;
    let title = format!(
        "Reachability {} (rows: source, columns: destination)",
        view.title
    );
    let legend = format!(
        "{}: {} of {} pairs allowed",
        view.title,
        view.allowed_count,
        n * n
    );
    // The title is 14px bold: about 9px a character.
    let text_width = (title.chars().count() * 9).max(200 + legend.chars().count() * CHAR_WIDTH);
    let width = (grid_left + grid + MARGIN).max(MARGIN * 2 + text_width);
    let height = grid_top + grid + LEGEND_HEIGHT + MARGIN;

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"{FONT_SIZE}\" role=\"img\">\n<title>{}. {}</title>\n",
        escape(&title),
        escape(&legend)
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        MARGIN + 14,
        escape(&title)
    );
    // Sources, right-aligned against the grid.
    for (i, label) in labels.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text class=\"source\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            grid_left - 6,
            grid_top + i * CELL + CELL / 2 + FONT_SIZE / 3,
            escape(label)
        );
    }
    // Destinations, written upwards from the top of their column.
    for (i, label) in labels.iter().enumerate() {
        let x = grid_left + i * CELL + CELL / 2 + FONT_SIZE / 3;
        let y = grid_top - 6;
        let _ = writeln!(
            out,
            "<text class=\"destination\" transform=\"translate({x},{y}) rotate(-90)\">{}</text>",
            escape(label)
        );
    }
    for (s, row) in view.allowed.iter().enumerate() {
        for (d, &allowed) in row.iter().enumerate() {
            let (fill, word) = if allowed {
                (ALLOWED_FILL, "allowed")
            } else {
                (DENIED_FILL, "denied")
            };
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{CELL}\" height=\"{CELL}\" fill=\"{fill}\" stroke=\"#ffffff\"><title>{} → {}: {word}</title></rect>",
                grid_left + d * CELL,
                grid_top + s * CELL,
                escape(&labels[s]),
                escape(labels.get(d).map_or("", String::as_str)),
            );
        }
    }
    let legend_y = grid_top + grid + 16;
    let swatch = |out: &mut String, x: usize, fill: &str, word: &str| {
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{legend_y}\" width=\"14\" height=\"14\" fill=\"{fill}\"/><text x=\"{}\" y=\"{}\">{word}</text>",
            x + 20,
            legend_y + 11
        );
    };
    swatch(&mut out, MARGIN, ALLOWED_FILL, "allowed");
    swatch(&mut out, MARGIN + 100, DENIED_FILL, "denied");
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\">{}</text>",
        MARGIN + 200,
        legend_y + 11,
        escape(&legend)
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two instances: `web <1>` (running) reaches itself only; `i-db` is stopped.
    fn sample() -> MatrixView {
        let instances = [("i-web", "web <1>", "Running"), ("i-db", "", "Stopped")]
            .map(|(id, name, status)| InstanceLabel {
                id: id.into(),
                name: name.into(),
                status: status.into(),
            })
            .to_vec();
        let allowed = (0..2)
            .map(|s| (0..2).map(|d| s + d == 0).collect())
            .collect();
        let title = "TCP/22 in vpc-1".into();
        MatrixView {
            title,
            instances,
            allowed,
            allowed_count: 1,
        }
    }

    #[test]
    fn labels_on_both_axes_escaped_and_cells_in_two_colours() {
        let svg = render(&sample());
        assert!(svg.starts_with("<?xml"));
        assert!(svg.trim_end().ends_with("</svg>"));
        // The name `web <1>` is escaped, on each axis.
        assert_eq!(
            svg.matches(">web &lt;1&gt; (i-web)</text>").count(),
            2,
            "{svg}"
        );
        assert!(!svg.contains("web <1>"));
        assert_eq!(svg.matches("i-db [Stopped]</text>").count(), 2);
        // One allowed cell and three denied, plus a legend swatch of each.
        assert_eq!(svg.matches(&format!("fill=\"{ALLOWED_FILL}\"")).count(), 2);
        assert_eq!(svg.matches(&format!("fill=\"{DENIED_FILL}\"")).count(), 4);
        assert!(svg.contains("TCP/22 in vpc-1: 1 of 4 pairs allowed"));
    }

    #[test]
    fn escape_covers_markup_quotes_and_control_characters() {
        assert_eq!(escape("a&b<c>\"d'\u{1}"), "a&amp;b&lt;c&gt;&quot;d&apos; ");
    }
}
