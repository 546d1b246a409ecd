package awsemu

import (
	"strings"
	"testing"
)

// TestEventPatternMatch checks EventBridge pattern matching against the
// rules of the EventBridge user guide (event patterns, content filtering).
func TestEventPatternMatch(t *testing.T) {
	const stop = `{"source":"aws.cloudtrail","detail-type":"AWS API Call via CloudTrail","account":"111122223333",
		"detail":{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","errorCode":null,
		"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Admin/s"},
		"requestParameters":{"name":"main"},"readOnly":false,"count":5,"tags":["a","b"],"empty":[]}}`
	cases := []struct {
		name, pattern string
		want          bool
	}{
		{"exact_value_matches", `{"source":["aws.cloudtrail"]}`, true},
		{"exact_value_differs", `{"source":["aws.s3"]}`, false},
		{"array_is_or", `{"detail":{"eventName":["DeleteTrail","StopLogging"]}}`, true},
		{"array_is_or_none_match", `{"detail":{"eventName":["DeleteTrail","UpdateTrail"]}}`, false},
		{"fields_are_and", `{"source":["aws.cloudtrail"],"detail":{"eventName":["DeleteTrail"]}}`, false},
		{"nested_objects", `{"detail":{"userIdentity":{"type":["AssumedRole"]}}}`, true},
		{"nested_object_absent", `{"detail":{"nosuch":{"type":["AssumedRole"]}}}`, false},
		{"nested_pattern_on_scalar", `{"source":{"x":["aws.cloudtrail"]}}`, false},
		{"value_is_case_sensitive", `{"detail":{"eventName":["stoplogging"]}}`, false},
		{"equals_ignore_case", `{"detail":{"eventName":[{"equals-ignore-case":"stoplogging"}]}}`, true},
		{"prefix_matches", `{"detail":{"eventName":[{"prefix":"Stop"}]}}`, true},
		{"prefix_differs", `{"detail":{"eventName":[{"prefix":"Start"}]}}`, false},
		{"prefix_not_on_number", `{"detail":{"count":[{"prefix":"5"}]}}`, false},
		{"suffix_matches", `{"detail":{"eventSource":[{"suffix":".amazonaws.com"}]}}`, true},
		{"anything_but_single_excluded", `{"detail":{"eventName":[{"anything-but":"StopLogging"}]}}`, false},
		{"anything_but_single_other", `{"detail":{"eventName":[{"anything-but":"StartLogging"}]}}`, true},
		{"anything_but_list_excluded", `{"detail":{"eventName":[{"anything-but":["StartLogging","StopLogging"]}]}}`, false},
		{"anything_but_prefix", `{"detail":{"eventName":[{"anything-but":{"prefix":"Start"}}]}}`, true},
		{"anything_but_prefix_excluded", `{"detail":{"eventName":[{"anything-but":{"prefix":"Stop"}}]}}`, false},
		{"anything_but_absent_field", `{"detail":{"nosuch":[{"anything-but":"x"}]}}`, false},
		{"anything_but_number", `{"detail":{"count":[{"anything-but":[5]}]}}`, false},
		{"exists_true_present", `{"detail":{"requestParameters":{"name":[{"exists":true}]}}}`, true},
		{"exists_true_absent", `{"detail":{"errorMessage":[{"exists":true}]}}`, false},
		{"exists_false_absent", `{"detail":{"errorMessage":[{"exists":false}]}}`, true},
		{"exists_false_present", `{"detail":{"eventName":[{"exists":false}]}}`, false},
		{"exists_true_on_object_is_false", `{"detail":{"userIdentity":[{"exists":true}]}}`, false},
		{"exists_false_under_absent_object", `{"detail":{"nosuch":{"x":[{"exists":false}]}}}`, true},
		{"exists_true_on_empty_array", `{"detail":{"empty":[{"exists":true}]}}`, false},
		{"null_matches_null", `{"detail":{"errorCode":[null]}}`, true},
		{"null_does_not_match_absent", `{"detail":{"nosuch":[null]}}`, false},
		{"boolean", `{"detail":{"readOnly":[false]}}`, true},
		{"boolean_not_string", `{"detail":{"readOnly":["false"]}}`, false},
		{"number_by_value", `{"detail":{"count":[5.0]}}`, true},
		{"number_not_string", `{"detail":{"count":["5"]}}`, false},
		{"array_value_any_element", `{"detail":{"tags":["b"]}}`, true},
		{"array_value_no_element", `{"detail":{"tags":["c"]}}`, false},
		{"numeric_greater", `{"detail":{"count":[{"numeric":[">",4]}]}}`, true},
		{"numeric_range_inside", `{"detail":{"count":[{"numeric":[">",0,"<=",5]}]}}`, true},
		{"numeric_range_outside", `{"detail":{"count":[{"numeric":[">=",6,"<",9]}]}}`, false},
		{"numeric_not_on_string", `{"detail":{"eventName":[{"numeric":[">",0]}]}}`, false},
		{"or_of_filters", `{"detail":{"eventName":[{"prefix":"Delete"},"StopLogging"]}}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseEventPattern(tc.pattern)
			if err != nil {
				t.Fatalf("parse %s: %v", tc.pattern, err)
			}
			if got := p.matchEvent([]byte(stop)); got != tc.want {
				t.Errorf("pattern %s matched %v, want %v", tc.pattern, got, tc.want)
			}
		})
	}
}

// TestEventPatternInvalid checks that PutRule's pattern validation refuses
// what EventBridge refuses, with a reason.
func TestEventPatternInvalid(t *testing.T) {
	cases := []struct{ name, pattern string }{
		{"not_json", `{"source":`},
		{"not_an_object", `["aws.cloudtrail"]`},
		{"empty_object", `{}`},
		{"leaf_not_array", `{"source":"aws.cloudtrail"}`},
		{"empty_array", `{"source":[]}`},
		{"nested_empty_object", `{"detail":{}}`},
		{"array_in_array", `{"source":[["a"]]}`},
		{"unknown_filter", `{"source":[{"regex":"a.*"}]}`},
		{"two_keys_in_filter", `{"source":[{"prefix":"a","suffix":"b"}]}`},
		{"prefix_not_string", `{"source":[{"prefix":1}]}`},
		{"exists_not_bool", `{"source":[{"exists":"yes"}]}`},
		{"anything_but_empty_list", `{"source":[{"anything-but":[]}]}`},
		{"anything_but_bool", `{"source":[{"anything-but":true}]}`},
		{"numeric_bad_operator", `{"source":[{"numeric":["!=",1]}]}`},
		{"numeric_not_number", `{"source":[{"numeric":[">","1"]}]}`},
		{"numeric_range_reversed", `{"source":[{"numeric":["<",5,">",1]}]}`},
		{"numeric_range_empty", `{"source":[{"numeric":[">",5,"<",1]}]}`},
		{"trailing_content", `{"source":["a"]} {}`},
		{"too_long", `{"source":["` + strings.Repeat("a", maxPatternLen) + `"]}`},
		{"too_deep", strings.Repeat(`{"a":`, maxPatternDepth+2) + `["x"]` + strings.Repeat(`}`, maxPatternDepth+2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseEventPattern(tc.pattern); err == nil {
				t.Errorf("pattern %s accepted", tc.pattern)
			}
		})
	}
}

// FuzzEventPattern feeds hostile patterns and events: parsing and
// matching never panic, and a pattern that parsed matches or not.
func FuzzEventPattern(f *testing.F) {
	f.Add(`{"detail":{"eventName":["StopLogging"]}}`, `{"detail":{"eventName":"StopLogging"}}`)
	f.Add(`{"a":[{"anything-but":{"prefix":"x"}}]}`, `{"a":["xy",1,null]}`)
	f.Add(`{"a":{"b":[{"exists":false}]}}`, `{"a":5}`)
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := parseEventPattern(pattern)
		if err != nil {
			return
		}
		p.matchEvent([]byte(event))
	})
}
