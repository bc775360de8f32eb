package dogstatsd

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/DataDog/datadog-go/v5/statsd"
)

// MaxDatagram is the most the Agent reads from one datagram: its default
// dogstatsd_buffer_size. Every message the Sink sends fits in one datagram
// of this size with its line break, over UDP as over a Unix socket; the
// Agent cuts a longer datagram and drops what no longer parses.
const MaxDatagram = 8192

// maxLine is the longest message: MaxDatagram less its line break.
const maxLine = MaxDatagram - 1

// ellipsis ends a text or message that was cut to fit.
const ellipsis = "…"

// maxKey is Datadog's limit on an event's aggregation key, in characters;
// a longer key is sent as keyPrefix characters, '~' and keyHash hex digits
// of its SHA-256.
const (
	maxKey    = 100
	keyHash   = 16
	keyPrefix = maxKey - 1 - keyHash
)

// AggregationKey returns the aggregation key as sent: sanitized, and when
// longer than Datadog's 100 characters, its first 83 characters, '~' and
// 16 hex digits of the SHA-256 of the whole sanitized key (DESIGN.md), so
// that two long keys never merge and one task always gets the same key.
func AggregationKey(k string) string {
	k = Sanitize(k)
	if utf8.RuneCountInString(k) <= maxKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	i, n := 0, 0
	for n < keyPrefix {
		_, size := utf8.DecodeRuneInString(k[i:])
		i += size
		n++
	}
	return k[:i] + "~" + hex.EncodeToString(sum[:])[:keyHash]
}

// sizer computes the length of the line datadog-go writes for a message
// (statsd's format.go), with the client's global tags, so that the Sink
// can make each message fit before handing it over. The client adds no
// container ID, external environment or card: field: origin detection
// is off and the cardinality is not set (see New).
type sizer struct {
	globals    int // how many global tags
	globalsLen int // their length, line breaks left out as datadog-go does
}

func newSizer(globals []string) sizer {
	z := sizer{globals: len(globals)}
	for _, t := range globals {
		z.globalsLen += tagLen(t)
	}
	return z
}

// tagLen is a tag's length as datadog-go writes it, without line breaks.
func tagLen(t string) int { return len(t) - strings.Count(t, "\n") }

// tags is the length of "|#global,…,tag,…", or 0 with no tag at all.
func (z sizer) tags(tags []string) int {
	n := z.globals + len(tags)
	if n == 0 {
		return 0
	}
	size := len("|#") + n - 1 + z.globalsLen
	for _, t := range tags {
		size += tagLen(t)
	}
	return size
}

// gauge is the length of "name:value|g|#tags" (rate 1, no timestamp).
func (z sizer) gauge(name string, value float64, tags []string) int {
	var buf [32]byte
	return len(name) + 1 + len(strconv.AppendFloat(buf[:0], value, 'f', -1, 64)) + len("|g") + z.tags(tags)
}

// timestamp is the length of "|d:unix", or 0 for the zero time.
func timestamp(t time.Time) int {
	if t.IsZero() {
		return 0
	}
	return len("|d:") + digits(t.Unix())
}

func digits(n int64) int {
	var buf [24]byte
	return len(strconv.AppendInt(buf[:0], n, 10))
}

// field is the length of "|x:value", or 0 for an empty value.
func field(v string) int {
	if v == "" {
		return 0
	}
	return len("|x:") + len(v)
}

// check is the length of "_sc|name|status|d:…|#tags|m:message".
func (z sizer) check(sc *statsd.ServiceCheck) int {
	size := len("_sc|") + len(sc.Name) + 1 + digits(int64(sc.Status)) + timestamp(sc.Timestamp) + z.tags(sc.Tags)
	if sc.Message != "" {
		size += len("|m:") + checkTextLen(sc.Message, len(sc.Message))
	}
	return size
}

// event is the length of "_e{title,text}:title|text|d:…|k:…|s:…|t:…|#tags".
func (z sizer) event(e *statsd.Event) int {
	text := eventTextLen(e.Text, len(e.Text))
	return len("_e{,}:|") + digits(int64(len(e.Title))) + digits(int64(text)) + len(e.Title) + text +
		timestamp(e.Timestamp) + field(e.Hostname) + field(e.AggregationKey) + field(string(e.Priority)) +
		field(e.SourceTypeName) + field(string(e.AlertType)) + z.tags(e.Tags)
}

// eventTextLen is the length of s[:n] as datadog-go writes an event text:
// each line break as the two bytes `\n`.
func eventTextLen(s string, n int) int { return n + strings.Count(s[:n], "\n") }

// checkTextLen is the length of s[:n] as datadog-go writes a service-check
// message: each line break as `\n`, each "m:" as `m\:`.
func checkTextLen(s string, n int) int {
	s = s[:n]
	return n + strings.Count(s, "\n") + strings.Count(s, "m:")
}

// cutText cuts an event text so that it is at most room bytes as written
// (eventTextLen): the whole lines that fit, then a line "…". When not even
// the first line fits, the first line is cut at a character and ends with
// "…". It reports false when room is too small even for "…".
func cutText(text string, room int) (string, bool) {
	if eventTextLen(text, len(text)) <= room {
		return text, true
	}
	const more = "\n" + ellipsis
	moreLen := eventTextLen(more, len(more))
	keep, n := -1, 0 // the last line break that fits with more after it; the written length of text[:i]
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			if n+moreLen > room {
				break
			}
			keep = i
			n += 2
			continue
		}
		n++
	}
	if keep > 0 {
		return text[:keep] + more, true
	}
	first, _, _ := strings.Cut(text, "\n")
	return cutLine(first, room, func(i int) int { return 1 })
}

// cutMessage cuts a service-check message (one line: the Sink turns line
// breaks into '_') at a character so that, ending with "…", it is at most
// room bytes as written (checkTextLen). It reports false when room is too
// small even for "…".
func cutMessage(msg string, room int) (string, bool) {
	if checkTextLen(msg, len(msg)) <= room {
		return msg, true
	}
	return cutLine(msg, room, func(i int) int {
		if msg[i] == '\n' || msg[i] == ':' && i > 0 && msg[i-1] == 'm' {
			return 2 // written `\n`; "m:" written `m\:` (an 'm' is never the end of a pair)
		}
		return 1
	})
}

// cutLine returns the longest prefix of line that ends at a character and,
// with "…" after it, is at most room bytes as written; width(i) is how many
// bytes line[i] takes when written.
func cutLine(line string, room int, width func(i int) int) (string, bool) {
	room -= len(ellipsis)
	if room < 0 {
		return "", false
	}
	end, n := 0, 0
	for i := 0; i < len(line); i++ {
		if n += width(i); n > room {
			break
		}
		if i+1 == len(line) || utf8.RuneStart(line[i+1]) {
			end = i + 1
		}
	}
	return line[:end] + ellipsis, true
}
