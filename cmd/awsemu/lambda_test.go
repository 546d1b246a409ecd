package main

import (
	"context"
	"strings"
	"testing"
)

func TestParseLambdaEndpoints(t *testing.T) {
	const inv = "http://127.0.0.1:9000/2015-03-31/functions/function/invocations"
	const fn = "arn:aws:lambda:us-east-1:111122223333:function:responder"
	cases := []struct {
		name   string
		values []string
		want   map[string]string
		bad    bool
	}{
		{name: "bare_url_serves_every_function", values: []string{inv}, want: map[string]string{"*": inv}},
		{name: "one_function", values: []string{fn + "=" + inv}, want: map[string]string{fn: inv}},
		{name: "default_and_one_function", values: []string{inv, fn + "=https://fn.example/x"}, want: map[string]string{"*": inv, fn: "https://fn.example/x"}},
		{name: "url_with_query_equals_is_a_bare_url", values: []string{inv + "?a=b"}, want: map[string]string{"*": inv + "?a=b"}},
		{name: "not_a_url", values: []string{"localhost:9000"}, bad: true},
		{name: "not_http", values: []string{"file:///etc/passwd"}, bad: true},
		{name: "no_host", values: []string{"http:///x"}, bad: true},
		{name: "not_a_lambda_arn", values: []string{"arn:aws:sns:us-east-1:111122223333:t=" + inv}, bad: true},
		{name: "two_defaults", values: []string{inv, inv}, bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLambdaEndpoints(tc.values)
			if tc.bad {
				if err == nil {
					t.Fatalf("%v accepted: %v", tc.values, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestRun_bad_lambda_endpoint(t *testing.T) {
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"--lambda-endpoint", "localhost:9000"}, &out, &errb); code != 2 {
		t.Errorf("exit %d, want 2 (stderr %q)", code, errb.String())
	}
	if !strings.Contains(errb.String(), "--lambda-endpoint") || out.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}
}
