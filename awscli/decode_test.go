package awscli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Decode reads a document as the AWS CLI prints it, exactly, and says
// where a document that is not such output goes wrong.
func TestDecode(t *testing.T) {
	deep := strings.Repeat(`{"x":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	tests := []struct {
		name   string
		doc    string
		into   func() any
		errHas string // "" when the document reads
		line   int    // the line the error points at (0: anywhere)
	}{
		{name: "status_as_printed", doc: "{\n    \"IsLogging\": true,\n    \"StartLoggingTime\": \"2026-01-02T03:04:05+00:00\"\n}\n", into: status},
		{name: "members_a_newer_cli_adds_are_allowed", doc: `{"IsLogging": true, "SomethingNew": {"a": [1, 2]}}`, into: status},
		{name: "repeated_key_is_refused", doc: "{\n    \"IsLogging\": false,\n    \"IsLogging\": true\n}", into: status, errHas: "IsLogging appears twice", line: 3},
		{name: "key_in_another_case_is_refused", doc: "{\n    \"IsLogging\": false,\n    \"isLogging\": true\n}", into: status, errHas: "key isLogging is not IsLogging", line: 3},
		{name: "required_member_missing", doc: `{"LatestDeliveryError": "x"}`, into: status, errHas: "IsLogging missing or null"},
		{name: "required_member_null", doc: `{"IsLogging": null}`, into: status, errHas: "IsLogging missing or null"},
		{name: "required_member_of_a_selector_missing", doc: "{\"EventSelectors\": [\n    {\"ReadWriteType\": \"All\"}\n]}", into: selectors, errHas: "EventSelectors[0].IncludeManagementEvents missing or null", line: 2},
		{name: "field_selector_without_field", doc: `{"AdvancedEventSelectors": [{"FieldSelectors": [{"Equals": ["Management"]}]}]}`, into: selectors, errHas: "AdvancedEventSelectors[0].FieldSelectors[0].Field missing or null"},
		{name: "repeated_key_in_an_unknown_member", doc: `{"IsLogging": true, "New": {"a": 1, "a": 2}}`, into: status, errHas: "New.a appears twice"},
		{name: "nesting_too_deep", doc: `{"IsLogging": true, "New": ` + deep + `}`, into: status, errHas: "nested more than"},
		{name: "syntax_error_names_its_line", doc: "{\n    \"IsLogging\": true,\n    \"x\": tru\n}", into: status, errHas: "invalid character", line: 3},
		{name: "document_cut_short", doc: "{\n    \"IsLogging\": true,", into: status, errHas: "unexpected end of JSON input", line: 2},
		{name: "type_error_in_json_terms", doc: "{\n    \"IsLogging\": \"yes\"\n}", into: status, errHas: "expected true or false", line: 2},
		{name: "timestamp_that_is_none", doc: "{\n    \"IsLogging\": true,\n    \"StopLoggingTime\": \"yesterday\"\n}", into: status, errHas: "cannot read timestamp", line: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Decode([]byte(tc.doc), tc.into())
			if tc.errHas == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode = %v, want a *DecodeError", err)
			}
			if !strings.Contains(de.Error(), tc.errHas) {
				t.Errorf("error %q, want %q", de.Error(), tc.errHas)
			}
			if tc.line > 0 {
				if de.Offset < 0 || de.Offset > int64(len(tc.doc)) {
					t.Fatalf("offset %d outside the document", de.Offset)
				}
				if got := bytes.Count([]byte(tc.doc[:de.Offset]), []byte("\n")) + 1; got != tc.line {
					t.Errorf("error at line %d, want %d", got, tc.line)
				}
			}
		})
	}
}

func status() any    { return &GetTrailStatus{} }
func selectors() any { return &GetEventSelectors{} }
