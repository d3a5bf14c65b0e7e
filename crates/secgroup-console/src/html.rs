//! The page frame and the pieces every page is built of. Every text that comes from the
//! store or the request goes through [`esc`] (or [`href`] for a link), and nothing else
//! puts text in a page: names, descriptions and tags are whatever an API caller chose.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::session::Session;

/// Text for an element's content or a quoted attribute.
pub fn esc(text: &str) -> String {
    secgroup_markup::escape(text)
}

/// What stays as it is in a path segment or query value: letters, digits and `-._~`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `/console/` and the segments, each percent-encoded, then escaped for an attribute.
pub fn href(segments: &[&str]) -> String {
    let mut out = String::from(crate::PREFIX);
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(utf8_percent_encode(s, COMPONENT));
    }
    esc(&out)
}

/// [`href`] with a query (`key=value` pairs, encoded).
pub fn href_query(segments: &[&str], query: &[(&str, &str)]) -> String {
    let mut out = href(segments);
    for (i, (k, v)) in query.iter().enumerate() {
        out.push_str(if i == 0 { "?" } else { "&amp;" });
        out.extend(utf8_percent_encode(k, COMPONENT));
        out.push('=');
        out.extend(utf8_percent_encode(v, COMPONENT));
    }
    out
}

/// `<a href="…">text</a>`; `href` is already escaped ([`href`]), `text` is not.
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{href}\">{}</a>", esc(text))
}

/// A table: a caption, column headings, and rows whose first cell heads its row. Cells are
/// HTML already (escaped by the caller). A wide table scrolls inside its own box (reached
/// by keyboard: the box takes focus), not the page.
pub fn table(caption: &str, head: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    let mut o = String::new();
    if rows.is_empty() {
        let _ = write!(
            o,
            "<p class=\"empty\"><strong>{}:</strong> {}</p>",
            esc(caption),
            esc(empty)
        );
        return o;
    }
    let _ = write!(
        o,
        "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{}\"><table><caption>{}</caption><thead><tr>",
        esc(caption),
        esc(caption)
    );
    for h in head {
        let _ = write!(o, "<th scope=\"col\">{}</th>", esc(h));
    }
    o.push_str("</tr></thead><tbody>");
    for row in rows {
        o.push_str(&row_html(row, None));
    }
    o.push_str("</tbody></table></div>");
    o
}

/// One row, its first cell the row's heading; `id` makes it a link target (`#id`).
pub fn row_html(row: &[String], id: Option<&str>) -> String {
    let mut o = match id {
        Some(id) => format!("<tr id=\"{}\">", esc(id)),
        None => "<tr>".to_string(),
    };
    for (i, cell) in row.iter().enumerate() {
        if i == 0 {
            let _ = write!(o, "<th scope=\"row\">{cell}</th>");
        } else {
            let _ = write!(o, "<td>{cell}</td>");
        }
    }
    o.push_str("</tr>");
    o
}

/// A list of terms and their values (values are HTML already).
pub fn facts(items: &[(&str, String)]) -> String {
    let mut o = String::from("<dl class=\"facts\">");
    for (term, value) in items {
        let _ = write!(o, "<div><dt>{}</dt><dd>{value}</dd></div>", esc(term));
    }
    o.push_str("</dl>");
    o
}

/// `<code>text</code>`, escaped.
pub fn code(text: &str) -> String {
    format!("<code>{}</code>", esc(text))
}

/// A page: its title, where it sits (breadcrumbs: label and link), the region it belongs
/// to (for the region's own menu) and its body.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub region: Option<String>,
    pub body: String,
}

impl Page {
    pub fn new(title: impl Into<String>) -> Self {
        Page {
            title: title.into(),
            ..Page::default()
        }
    }
    pub fn crumb(mut self, label: impl Into<String>, href: String) -> Self {
        self.crumbs.push((label.into(), href));
        self
    }
    pub fn in_region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string());
        self
    }
    pub fn body(mut self, body: String) -> Self {
        self.body = body;
        self
    }
}

/// A menu entry; the one for the page shown (`current`, its path) says so to assistive
/// technology.
fn menu_item(href: &str, text: &str, current: &str) -> String {
    let here = if href == esc(current) {
        " aria-current=\"page\""
    } else {
        ""
    };
    format!("<li><a href=\"{href}\"{here}>{}</a></li>", esc(text))
}

/// The whole document: skip link, header (brand, main menu, who is signed in, sign-out),
/// breadcrumbs, the region's menu, the page in `<main>`, footer. `current` is the path of
/// the page shown.
pub fn document(page: &Page, session: Option<&Session>, current: &str) -> String {
    let mut o = String::with_capacity(page.body.len() + 2048);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · secgroup console</title>\
<link rel=\"stylesheet\" href=\"{}assets/console.css\"></head><body>\
<a class=\"skip\" href=\"#main\">Skip to content</a>\
<header class=\"top\"><p class=\"brand\"><a href=\"{}\">secgroup console</a></p>",
        esc(&page.title),
        crate::PREFIX,
        crate::PREFIX
    );
    if let Some(session) = session {
        let _ = write!(
            o,
            "<nav aria-label=\"Main\"><ul>{}{}</ul></nav>\
<form class=\"signout\" method=\"post\" action=\"{}\"><p>Account <span class=\"account\">{}</span> <span class=\"key\">({})</span></p>\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
            menu_item(&href(&[]), "Regions", current),
            menu_item(&href(&["dataplane"]), "Data plane", current),
            href(&["signout"]),
            esc(session.account_id.as_str()),
            esc(&session.access_key_id),
            esc(&session.csrf)
        );
    }
    o.push_str("</header>");
    if !page.crumbs.is_empty() {
        o.push_str("<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><ol>");
        for (label, href) in &page.crumbs {
            let _ = write!(o, "<li><a href=\"{href}\">{}</a></li>", esc(label));
        }
        let _ = write!(
            o,
            "<li><span aria-current=\"page\">{}</span></li></ol></nav>",
            esc(&page.title)
        );
    }
    if let Some(region) = &page.region {
        let _ = write!(
            o,
            "<nav class=\"region\" aria-label=\"Region {}\"><ul>{}{}{}{}</ul></nav>",
            esc(region),
            menu_item(&href(&["regions", region]), "VPCs", current),
            menu_item(
                &href(&["regions", region, "security-groups"]),
                "Security groups",
                current
            ),
            menu_item(
                &href(&["regions", region, "instances"]),
                "Instances",
                current
            ),
            menu_item(
                &href(&["regions", region, "reachability"]),
                "Reachability",
                current
            ),
        );
    }
    let _ = writeln!(
        o,
        "<main id=\"main\" tabindex=\"-1\"><h1>{}</h1>{}</main>\
<footer><p>Read-only: changes are made through the API. Times are UTC.</p></footer></body></html>",
        esc(&page.title),
        page.body
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_then_escape_their_segments() {
        assert_eq!(href(&[]), "/console/");
        assert_eq!(
            href(&["regions", "cn-hangzhou", "security-groups", "sg-1"]),
            "/console/regions/cn-hangzhou/security-groups/sg-1"
        );
        assert_eq!(href(&["a/b\"<"]), "/console/a%2Fb%22%3C");
        assert_eq!(
            href_query(&["audit"], &[("resource", "sg-1"), ("x", "a&b")]),
            "/console/audit?resource=sg-1&amp;x=a%26b"
        );
    }

    #[test]
    fn tables_head_their_columns_and_rows() {
        let t = table(
            "Rules",
            &["Policy", "Priority"],
            &[vec!["Accept".into(), "1".into()]],
            "none",
        );
        assert!(t.contains("<caption>Rules</caption>"));
        assert!(t.contains("<th scope=\"col\">Policy</th>"));
        assert!(t.contains("<th scope=\"row\">Accept</th><td>1</td>"));
        assert!(table("Rules", &["P"], &[], "No rules.").contains("No rules."));
    }

    #[test]
    fn the_menu_marks_the_page_shown() {
        let page = Page::new("Instances").in_region("cn-hangzhou");
        let html = document(&page, None, "/console/regions/cn-hangzhou/instances");
        assert!(html.contains(
            "<a href=\"/console/regions/cn-hangzhou/instances\" aria-current=\"page\">Instances</a>"
        ));
        assert_eq!(html.matches("aria-current=\"page\"").count(), 1);
    }

    #[test]
    fn the_title_is_escaped_in_the_head_and_the_heading() {
        let page = Page::new("<script>alert(1)</script>");
        let html = document(&page, None, "/console/signin");
        assert!(!html.contains("<script>"));
        assert_eq!(html.matches("&lt;script&gt;").count(), 2);
    }
}
