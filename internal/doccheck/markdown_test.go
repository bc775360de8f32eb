package doccheck

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// repoRoot is the repository's top directory, from this package's.
const repoRoot = "../.."

// mdFile is one Markdown file, read once: its lines with code blocks
// blanked and code spans replaced by spaces (so that neither a heading nor
// a link is read inside code), and its heading anchors.
type mdFile struct {
	lines   []string // prose lines, 0-based; code blanked
	anchors map[string]bool
}

var fence = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")

// parseMarkdown reads src as GitHub renders it, as far as links and
// headings go: fenced code blocks (``` or ~~~) and code spans hold neither,
// and ATX headings (# to ######) make anchors. Setext headings and
// indented code blocks are not read: no file of the project uses them.
func parseMarkdown(src string) mdFile {
	f := mdFile{anchors: map[string]bool{}}
	seen := map[string]int{} // slug -> how many times it came back
	var open string          // the fence that opened the current code block
	for _, line := range strings.Split(src, "\n") {
		if open != "" {
			if m := fence.FindStringSubmatch(line); m != nil && m[1][0] == open[0] && len(m[1]) >= len(open) &&
				strings.TrimSpace(line[len(m[0]):]) == "" {
				open = ""
			}
			f.lines = append(f.lines, "")
			continue
		}
		if m := fence.FindStringSubmatch(line); m != nil {
			open = m[1]
			f.lines = append(f.lines, "")
			continue
		}
		f.lines = append(f.lines, blankCodeSpans(line))
		if text, ok := heading(line); ok {
			// github-slugger: a slug taken gets the next free -N.
			anchor := slug(text)
			for base := anchor; ; {
				if _, taken := seen[anchor]; !taken {
					break
				}
				seen[base]++
				anchor = fmt.Sprintf("%s-%d", base, seen[base])
			}
			seen[anchor] = 0
			f.anchors[anchor] = true
		}
	}
	return f
}

var atx = regexp.MustCompile(`^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)

// heading returns the text of an ATX heading line.
func heading(line string) (string, bool) {
	m := atx.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// codeSpans returns the byte ranges [start, end) of the code spans of
// line, backticks included: a run of n backticks up to the next run of
// exactly n. An unmatched run is literal text.
func codeSpans(line string) [][2]int {
	var spans [][2]int
	run := func(i int) int {
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		return n
	}
	for i := 0; i < len(line); {
		if line[i] != '`' {
			i++
			continue
		}
		n := run(i)
		end := -1
		for j := i + n; j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			m := run(j)
			if m == n {
				end = j + m
				break
			}
			j += m
		}
		if end < 0 {
			i += n
			continue
		}
		spans = append(spans, [2]int{i, end})
		i = end
	}
	return spans
}

// blankCodeSpans replaces every code span of line with spaces, so that no
// link is found inside code and columns stay where they were.
func blankCodeSpans(line string) string {
	b := []byte(line)
	for _, sp := range codeSpans(line) {
		for k := sp[0]; k < sp[1]; k++ {
			b[k] = ' '
		}
	}
	return string(b)
}

var (
	linkInHeading = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTag       = regexp.MustCompile(`<[^>]+>`)
)

// slug is GitHub's anchor for a heading's text: the rendered text (outside
// code spans a link becomes its text and HTML tags go; a code span keeps
// its text as it is), lowercased, every character but letters, digits,
// spaces, - and _ dropped, each space turned into -. Duplicates in one
// file get -1, -2… (parseMarkdown does that). Emphasis with _ is not
// rendered away: no heading of the project uses it.
func slug(text string) string {
	var rendered strings.Builder
	prose := func(s string) {
		s = linkInHeading.ReplaceAllString(s, "$1")
		rendered.WriteString(htmlTag.ReplaceAllString(s, ""))
	}
	last := 0
	for _, sp := range codeSpans(text) {
		prose(text[last:sp[0]])
		rendered.WriteString(strings.Trim(text[sp[0]:sp[1]], "`"))
		last = sp[1]
	}
	prose(text[last:])
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(rendered.String())) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

var (
	// [text](target) and ![alt](target), with an optional "title"; the
	// target may be in <angle brackets>.
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+"[^"]*")?\s*\)`)
	// [label]: target
	refDef = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)`)
	scheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	// GitHub's line anchors on a source file: #L10, #L10-L20.
	lineAnchor = regexp.MustCompile(`^L\d+(-L\d+)?$`)
)

// link is one link target found in a file, at a 1-based line.
type link struct {
	line   int
	target string
}

func (f mdFile) links() []link {
	var out []link
	for i, line := range f.lines {
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			out = append(out, link{i + 1, strings.Trim(m[1], "<>")})
		}
		if m := refDef.FindStringSubmatch(line); m != nil {
			out = append(out, link{i + 1, strings.Trim(m[1], "<>")})
		}
	}
	return out
}

// checkLinks checks every relative link and anchor of the Markdown files
// (paths relative to root, with /) and returns one line per bad link:
// file:line: the link and why. Links with a scheme (https:, mailto:) are
// not followed.
func checkLinks(root string, files []string) []string {
	parsed := map[string]mdFile{}
	read := func(name string) (mdFile, error) {
		if f, ok := parsed[name]; ok {
			return f, nil
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			return mdFile{}, err
		}
		f := parseMarkdown(string(b))
		parsed[name] = f
		return f, nil
	}
	var bad []string
	for _, name := range files {
		f, err := read(name)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		for _, l := range f.links() {
			if l.target == "" || scheme.MatchString(l.target) {
				continue
			}
			if why := resolve(root, name, l.target, read); why != "" {
				bad = append(bad, fmt.Sprintf("%s:%d: %s: %s", name, l.line, l.target, why))
			}
		}
	}
	return bad
}

// resolve returns why target, linked from the file from, does not
// resolve, or "" when it does.
func resolve(root, from, target string, read func(string) (mdFile, error)) string {
	p, anchor, hasAnchor := strings.Cut(target, "#")
	p, err := url.PathUnescape(p)
	if err != nil {
		return "bad escape in the path"
	}
	dest := from
	if p != "" {
		if strings.HasPrefix(p, "/") {
			return "an absolute path; use a path relative to the file"
		}
		dest = path.Clean(path.Join(path.Dir(from), p))
		if dest == ".." || strings.HasPrefix(dest, "../") {
			return "outside the repository"
		}
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(dest)))
		if err != nil {
			return "no such file or directory"
		}
		if info.IsDir() {
			if hasAnchor {
				return "an anchor on a directory"
			}
			return ""
		}
	}
	if !hasAnchor {
		return ""
	}
	if !strings.HasSuffix(dest, ".md") {
		if lineAnchor.MatchString(anchor) {
			return ""
		}
		return "an anchor on a file that is not Markdown"
	}
	f, err := read(dest)
	if err != nil {
		return err.Error()
	}
	if !f.anchors[anchor] {
		return fmt.Sprintf("no heading with the anchor #%s in %s", anchor, dest)
	}
	return ""
}

// markdownFiles returns the Markdown files of the repository, with / as
// separator: from git, the tracked ones and the new ones it does not ignore
// (a page not yet added is checked too); without git (an exported tree),
// every .md file under root but in hidden directories other than .github.
func markdownFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.md")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
		return slices.DeleteFunc(files, func(s string) bool { return s == "" }), nil
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") && d.Name() != ".github" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

var (
	tableRow = regexp.MustCompile(`^\s*\|(.*)\|\s*$`)
	envName  = regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
)

// documentedVariables returns the variables that the tables of a
// configuration page list: every `NAME` in the first cell of the rows of
// a table whose header's first cell is "variable", with the 1-based line
// of each.
func documentedVariables(src string) map[string][]int {
	vars := map[string][]int{}
	inTable, header := false, false
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		m := tableRow.FindStringSubmatch(sc.Text())
		if m == nil {
			inTable, header = false, false
			continue
		}
		first, _, _ := strings.Cut(m[1], "|")
		first = strings.TrimSpace(first)
		switch {
		case !inTable:
			inTable, header = true, first == "variable"
		case !header, strings.Trim(first, "-: ") == "":
			// another table, or the delimiter row
		default:
			for _, v := range envName.FindAllStringSubmatch(first, -1) {
				vars[v[1]] = append(vars[v[1]], n)
			}
		}
	}
	return vars
}
