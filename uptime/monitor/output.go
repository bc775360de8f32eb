package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// JSON returns v (a Monitor or a Dashboard) as indented JSON ending in a
// newline, with '<', '>' and '&' as they are: queries hold '>'.
func JSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b.Bytes(), nil
}

// ResourceName returns a Terraform resource name for a monitor of that
// kind ("task_uptime", "task_lifetime", "family_concurrency"…) and filter:
// letters, digits and underscores only, ending "_with_services" when the
// filter includes the tasks of services.
func ResourceName(kind string, f Filter) string {
	if r, err := f.Resolve(); err == nil {
		f = r
	}
	parts := append([]string{kind}, f.Tags()...)
	if f.Services {
		parts = append(parts, "with_services")
	}
	name := strings.Join(parts, "_")
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			underscore = false
		} else if !underscore { // one underscore for any run of other characters
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.Trim(b.String(), "_")
}

// Terraform returns m as a datadog_monitor resource of the Datadog
// Terraform provider.
func Terraform(resource string, m Monitor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "resource \"datadog_monitor\" %s {\n", hclString(resource))
	fmt.Fprintf(&b, "  name    = %s\n", hclString(m.Name))
	fmt.Fprintf(&b, "  type    = %s\n", hclString(m.Type))
	fmt.Fprintf(&b, "  query   = %s\n", hclString(m.Query))
	lines := strings.Split(strings.TrimRight(m.Message, "\n"), "\n")
	// A message line that reads as the delimiter would end the heredoc.
	eot := "EOT"
	for slices.ContainsFunc(lines, func(l string) bool { return strings.TrimSpace(l) == eot }) {
		eot += "_"
	}
	fmt.Fprintf(&b, "  message = <<-%s\n", eot)
	for _, line := range lines {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, "    %s\n", hclTemplate(line))
	}
	fmt.Fprintf(&b, "  %s\n\n", eot)
	tags := make([]string, len(m.Tags))
	for i, t := range m.Tags {
		tags[i] = hclString(t)
	}
	fmt.Fprintf(&b, "  tags = [%s]\n\n", strings.Join(tags, ", "))
	fmt.Fprintf(&b, "  notify_no_data      = %t\n", m.Options.NotifyNoData)
	if m.Options.NoDataTimeframe > 0 {
		fmt.Fprintf(&b, "  no_data_timeframe   = %d\n", m.Options.NoDataTimeframe)
	}
	if m.Options.RequireFullWindow != nil {
		fmt.Fprintf(&b, "  require_full_window = %t\n", *m.Options.RequireFullWindow)
	}
	fmt.Fprintf(&b, "  include_tags        = %t\n", m.Options.IncludeTags)
	if m.Options.TimeoutH > 0 {
		fmt.Fprintf(&b, "  timeout_h           = %d\n", m.Options.TimeoutH)
	}
	b.WriteString("\n")
	b.WriteString("  monitor_thresholds {\n")
	if m.Options.Thresholds.Warning != nil {
		fmt.Fprintf(&b, "    warning  = %s\n", number(*m.Options.Thresholds.Warning))
	}
	fmt.Fprintf(&b, "    critical = %s\n", number(m.Options.Thresholds.Critical))
	if m.Options.Thresholds.OK != nil {
		fmt.Fprintf(&b, "    ok       = %s\n", number(*m.Options.Thresholds.OK))
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// hclString quotes s as an HCL string: escapes as in JSON, and the
// template sequences "${" and "%{" doubled so that Terraform keeps them.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return hclTemplate(b.String())
}

// hclTemplate escapes Terraform's template sequences in heredoc or string
// text; Datadog's own {{...}} variables need no escape.
func hclTemplate(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}
