#!/usr/bin/env bash
# Checks that the code, tests, scripts and Markdown cite only the repository's own docs:
#
# - every `docs/<file>.md §N[.M…]` names a document of docs/ and a numbered heading in it
#   (`## N …`, `### N.M …`); in a range `§3.7–§3.12` both ends are checked, and in a list
#   `docs/ecs.md §3.7, §3.8` every section belongs to the last document named before it; a
#   line that starts (after its comment marker) with `§` continues the previous line's;
# - outside docs/, no `§` appears on a line before a `docs/<file>.md` names its document;
#   inside docs/<file>.md, such a bare `§` is a section of that same document;
# - outside docs/, no document of docs/ is named without its `docs/` prefix;
# - nothing names the machine-local spec files or their paths.
#
#   scripts/check-doc-citations.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The project's own files: git's list (ignored files left out), or, outside a git checkout,
# everything but the build, the installed SDKs and other generated trees.
files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files --cached --others --exclude-standard -z -- \
            '*.rs' '*.py' '*.js' '*.sh' '*.md'
    else
        find . \( -name target -o -name node_modules -o -name .git -o -name '.test-work' \
            -o -name 'secgroup-data' -o -name .venv \) -prune -o -type f \
            \( -name '*.rs' -o -name '*.py' -o -name '*.js' -o -name '*.sh' -o -name '*.md' \) \
            -printf '%P\0'
    fi
}

files | perl -0ne '
        BEGIN { $/ = "\0"; $failed = 0; %headings = (); }
        chomp;
        my $file = $_;
        next if $file =~ m{(^|/)(target|node_modules)/};
        next if $file eq "scripts/check-doc-citations.sh";
        push @files, $file;
        END {
            $/ = "\n";
            # The numbered headings of every document in docs/.
            for my $doc (glob "docs/*.md") {
                open my $fh, "<", $doc or die "$doc: $!";
                $headings{$doc} ||= {};
                while (<$fh>) {
                    $headings{$doc}{$1} = 1 if /^#{1,6} (\d+(?:\.\d+)*) /;
                }
            }
            my $names = join "|", map { my $n = $_; $n =~ s{^docs/}{}; quotemeta $n }
                grep { $_ ne "docs/README.md" } keys %headings;
            # Spelled so that this script does not name them itself.
            my $forbidden = qr{ecs-api[.]md|more-apis[.]md|sdk-wire[.]md|/work/share[d]|[.][.]/shared
                |ModifySecurityGroupPolicy[.]txt|anchors[.]md}x;
            for my $file (@files) {
                open my $fh, "<", $file or die "$file: $!";
                my $in_docs = $file =~ m{^docs/[^/]+\.md$};
                my $carry;
                while (my $line = <$fh>) {
                    my $where = "$file:$.";
                    if ($line =~ $forbidden) {
                        print "$where: names a spec file outside the repository: $&\n";
                        $failed = 1;
                    }
                    if (!$in_docs && $line =~ m{(?<![\w/.-])((?:$names))(?![\w-])}) {
                        print "$where: cites $1 without its docs/ prefix\n";
                        $failed = 1;
                    }
                    my $current = $in_docs ? $file : undef;
                    # A citation wrapped onto this line: `//! §3.2, …`, `# §2.8 …`.
                    $current = $carry if defined $carry && $line =~ m{^\s*(?://[/!]?|#|\*)?\s*§};
                    while ($line =~ m{docs/([\w-]+\.md)|§(\d+(?:\.\d+)*)}g) {
                        if (defined $1) {
                            $current = "docs/$1";
                            if (!exists $headings{$current}) {
                                print "$where: $current does not exist\n";
                                $failed = 1;
                            }
                            next;
                        }
                        my $section = $2;
                        if (!defined $current) {
                            print "$where: §$section cites no document (write docs/<file>.md §$section)\n";
                            $failed = 1;
                        } elsif (exists $headings{$current} && !$headings{$current}{$section}) {
                            print "$where: $current has no section $section\n";
                            $failed = 1;
                        }
                    }
                    $carry = $current;
                }
            }
            exit $failed;
        }
    '
