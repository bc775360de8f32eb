// Package doccheck holds no code: its tests check the project's Markdown,
// the README front page and the guide under docs/.
//
// They check that every relative link and #anchor of every tracked
// Markdown file resolves, with GitHub's heading slugs; that
// docs/configuration.md lists exactly the variables uptime/config reads,
// naming the missing and the extra ones; and that README.md stays a front
// page of at most 15,000 bytes. They do not check external links (no
// network in tests) nor what the prose says.
package doccheck
