package dogstatsd

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAggregationKey(t *testing.T) {
	long := "arn:aws:ecs:eu-west-1:123456789012:task/" + strings.Repeat("c", 255) + "/5c2f0b9e2a4c4e0f8d1a6b7c8d9e0f1a"
	tests := []struct {
		name, key, want string
	}{
		{"short, as is", "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f", "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f"},
		{"sanitized", "a|b,c#d\ne", "a_b_c_d_e"},
		{"100 characters, as is", strings.Repeat("k", 100), strings.Repeat("k", 100)},
		// The hash is of the whole key: printf %0101d | tr 0 k | sha256sum
		{"101 characters", strings.Repeat("k", 101), strings.Repeat("k", 83) + "~" + "dec651a2cfdb388f"},
		{"characters, not bytes", strings.Repeat("é", 100), strings.Repeat("é", 100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AggregationKey(tc.key)
			if got != tc.want {
				t.Errorf("AggregationKey(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
	k1 := AggregationKey(long)
	k2 := AggregationKey(strings.Replace(long, "5c2f0b9e", "5c2f0b9f", 1))
	if utf8.RuneCountInString(k1) != 100 || k1[:83] != long[:83] || k1[83] != '~' {
		t.Errorf("AggregationKey(%q) = %q, want its first 83 characters, ~ and 16 hex digits", long, k1)
	}
	if k1 == k2 {
		t.Errorf("two task ARNs that differ past the 83rd character share the key %q", k1)
	}
	if again := AggregationKey(long); again != k1 {
		t.Errorf("one task got two keys: %q, then %q", k1, again)
	}
	if k := AggregationKey(strings.Repeat("é", 101)); utf8.RuneCountInString(k) != 100 || !utf8.ValidString(k) {
		t.Errorf("AggregationKey(101 × é) = %q: want 100 characters, valid UTF-8", k)
	}
}

func TestCutText(t *testing.T) {
	text := "CRITICAL: 10 tasks\n- task one\n- task two\n- task three"
	tests := []struct {
		name string
		room int
		want string
		ok   bool
	}{
		{"fits", len(text) + 3, text, true}, // three line breaks, two bytes each
		{"one byte short", len(text) + 2, "CRITICAL: 10 tasks\n- task one\n- task two\n…", true},
		{"first line and more", len("CRITICAL: 10 tasks") + 2 + 3, "CRITICAL: 10 tasks\n…", true},
		{"not even the first line", 12, "CRITICAL:…", true},
		{"only the ellipsis", 3, "…", true},
		{"no room", 2, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cutText(text, tc.room)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("cutText(room %d) = %q, %v; want %q, %v", tc.room, got, ok, tc.want, tc.ok)
			}
			if ok && eventTextLen(got, len(got)) > tc.room {
				t.Errorf("cutText(room %d) = %q: %d bytes written", tc.room, got, eventTextLen(got, len(got)))
			}
		})
	}
	// A character is never cut in two.
	if got, _ := cutText("ééééé", 8); got != "éé…" {
		t.Errorf("cutText(ééééé, 8) = %q, want éé…", got)
	}
}

func TestCutMessage(t *testing.T) {
	tests := []struct {
		msg  string
		room int
		want string
		ok   bool
	}{
		{"task db-migrate:42 has run 26h", 30, "task db-migrate:42 has run 26h", true},
		{"task db-migrate:42 has run 26h", 29, "task db-migrate:42 has run…", true},
		// "m:" goes out as `m\:`: three bytes.
		{"team:data", 10, "team:data", true},
		{"team:data", 9, "team:…", true},
		{"m:m:m:", 8, "m:m…", true},
		{"m:m:m:", 7, "m:m…", true},
		{"m:m:m:", 6, "m:…", true},
		{"m:m:m:", 5, "m…", true},
		{"abc", 2, "", false},
	}
	for _, tc := range tests {
		got, ok := cutMessage(tc.msg, tc.room)
		if got != tc.want || ok != tc.ok {
			t.Errorf("cutMessage(%q, %d) = %q, %v; want %q, %v", tc.msg, tc.room, got, ok, tc.want, tc.ok)
		}
		if ok && checkTextLen(got, len(got)) > tc.room {
			t.Errorf("cutMessage(%q, %d) = %q: %d bytes written", tc.msg, tc.room, got, checkTextLen(got, len(got)))
		}
	}
}

func TestPackLines(t *testing.T) {
	short := strings.Repeat("a", 99) + "\n"
	long := strings.Repeat("b", 3000) + "\n"
	tests := []struct {
		name string
		p    string
		want []int // the datagrams' lengths
	}{
		{"fits one", short + short, []int{200}},
		{"packs at line ends", strings.Repeat(short, 20), []int{1400, 600}},
		{"a long line alone", short + long + short, []int{100, 3001, 100}},
		{"a long line first", long + short, []int{3001, 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for p := []byte(tc.p); len(p) > 0; {
				n := packLines(p, udpPayload)
				got = append(got, n)
				p = p[n:]
			}
			if !equalInts(got, tc.want) {
				t.Errorf("datagrams of %v bytes, want %v", got, tc.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
