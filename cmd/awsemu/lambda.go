package main

import (
	"fmt"
	"net/url"
	"strings"
)

// parseLambdaEndpoints reads the --lambda-endpoint values: a bare URL
// for every function ("*"), or FUNCTION_ARN=URL for one. The URL must be
// an absolute http(s) URL: the emulator POSTs events there.
func parseLambdaEndpoints(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		arn, u := "*", v
		if a, rest, ok := strings.Cut(v, "="); ok && strings.HasPrefix(a, "arn:") {
			arn, u = a, rest
			if !strings.HasPrefix(arn, "arn:aws:lambda:") || !strings.Contains(arn, ":function:") {
				return nil, fmt.Errorf("%q: %q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", v, arn)
			}
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("%q: want an http(s) URL such as http://127.0.0.1:9000/2015-03-31/functions/function/invocations", v)
		}
		if _, dup := out[arn]; dup {
			return nil, fmt.Errorf("%q: a second endpoint for %s", v, arn)
		}
		out[arn] = u
	}
	return out, nil
}
