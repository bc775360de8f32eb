package receiver

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		line string
		want Packet
		bad  bool
	}{
		{line: "ecs.task.uptime:93630.25|g|#task_arn:arn:aws:ecs:r:1:task/c/x,env:prod",
			want: Packet{Kind: Metric, Name: "ecs.task.uptime", Value: 93630.25, Type: "g", Tags: []string{"task_arn:arn:aws:ecs:r:1:task/c/x", "env:prod"}, Fields: map[string]string{}}},
		{line: "m:1|c|@0.5|c:ci-abc",
			want: Packet{Kind: Metric, Name: "m", Value: 1, Type: "c", Fields: map[string]string{"@": "0.5", "c": "ci-abc"}}},
		{line: "_sc|ecs.task.lifetime|2|#task_arn:x|m:task has run 26h, over 24h",
			want: Packet{Kind: ServiceCheck, Name: "ecs.task.lifetime", Status: 2, Text: "task has run 26h, over 24h", Tags: []string{"task_arn:x"}, Fields: map[string]string{}}},
		// The Agent strips the dd.internal.card tag when no card: field came
		// with it, wherever the tag is in the list.
		{line: "ecs.task.uptime:1|g|#env:prod,dd.internal.card:none,task_arn:x",
			want: Packet{Kind: Metric, Name: "ecs.task.uptime", Value: 1, Type: "g", Tags: []string{"env:prod", "task_arn:x"}, CardTag: "none", Fields: map[string]string{}}},
		{line: "_sc|ecs.task.lifetime|0|d:1764064800|#dd.internal.card:none,task_arn:x|m:task has run 1h",
			want: Packet{Kind: ServiceCheck, Name: "ecs.task.lifetime", Text: "task has run 1h", Tags: []string{"task_arn:x"}, CardTag: "none", Fields: map[string]string{"d": "1764064800"}}},
		{line: `_e{5,4}:title|text|k:arn|#a:b,dd.internal.card:none`,
			want: Packet{Kind: Event, Name: "title", Text: "text", Tags: []string{"a:b"}, CardTag: "none", Fields: map[string]string{"k": "arn"}}},
		// With a card: field the field wins and the Agent keeps the tag as
		// an ordinary one: it would be stored on the series.
		{line: "m:1|g|#dd.internal.card:none|card:none",
			want: Packet{Kind: Metric, Name: "m", Value: 1, Type: "g", Tags: []string{"dd.internal.card:none"}, CardField: "none", Fields: map[string]string{}}},
		{line: "_sc|name|0|#a:b|m:text|card:low",
			want: Packet{Kind: ServiceCheck, Name: "name", Text: "text", Tags: []string{"a:b"}, CardField: "low", Fields: map[string]string{}}},
		// As in the Agent, a service-check message ends at the next '|':
		// the rest is a field of its own, here not one.
		{line: "_sc|ecs.task.lifetime|2|#task_arn:x|m:task has run 26h|over 24h", bad: true},
		{line: `_e{5,12}:title|line1\nline2|k:arn|t:error|#a:b`,
			want: Packet{Kind: Event, Name: "title", Text: "line1\nline2", Tags: []string{"a:b"}, Fields: map[string]string{"k": "arn", "t": "error"}}},
		{line: "_e{2,2}:ab|cd",
			want: Packet{Kind: Event, Name: "ab", Text: "cd", Fields: map[string]string{}}},
		{line: "novalue|g", bad: true},
		{line: "m:abc|g", bad: true},
		{line: "m:1", bad: true},
		{line: "_sc|name|7", bad: true},
		{line: "_sc||0", bad: true},
		{line: "_e{9,2}:ab|cd", bad: true},
		{line: "_e{1,1}:ab|cd", bad: true},
		{line: "m:1|g|weird", bad: true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.line)
		if tc.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", tc.line, got)
			}
			continue
		}
		tc.want.Raw = tc.line
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q)\n got %+v, %v\nwant %+v", tc.line, got, err, tc.want)
		}
	}
}
