package aws

import (
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
)

func TestEC2Endpoint(t *testing.T) {
	for _, c := range []struct {
		name, region, base, envEC2, fips, want string
		wantErr                                bool
	}{
		{name: "commercial_region", region: "eu-west-1", want: "https://ec2.eu-west-1.amazonaws.com"},
		{name: "china_partition", region: "cn-north-1", want: "https://ec2.cn-north-1.amazonaws.com.cn"},
		{name: "govcloud_fips", region: "us-gov-west-1", fips: "true", want: "https://ec2-fips.us-gov-west-1.amazonaws.com"},
		{name: "endpoint_url_flag_or_env", region: "us-east-1", base: "http://127.0.0.1:4000", want: "http://127.0.0.1:4000"},
		{name: "service_specific_env_wins", region: "us-east-1", base: "http://127.0.0.1:4000", envEC2: "http://127.0.0.1:5000", want: "http://127.0.0.1:5000"},
		{name: "no_region", wantErr: true},
		{name: "region_that_would_change_the_host", region: "x.evil.example/a", wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL_EC2", c.envEC2)
			t.Setenv("AWS_USE_FIPS_ENDPOINT", c.fips)
			t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
			cfg := sdkaws.Config{Region: c.region}
			if c.base != "" {
				cfg.BaseEndpoint = sdkaws.String(c.base)
			}
			got, err := ec2Endpoint(cfg)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("ec2Endpoint = %q, %v; want %q (error %v)", got, err, c.want, c.wantErr)
			}
		})
	}
}
