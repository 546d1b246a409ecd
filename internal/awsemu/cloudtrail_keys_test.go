package awsemu_test

import (
	"crypto/md5"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
)

// ListPublicKeys serves each region's own key: a PKCS#1 DER RSA public
// key of 2048 bits whose Fingerprint is the hex MD5 of those bytes, with
// a validity window; a range outside the window lists nothing and a
// range that ends before it starts is InvalidTimeRangeException.
func TestListPublicKeys(t *testing.T) {
	e := newEnv(t)
	creds := e.emu.AddAccount(acctA)
	now := time.Now()
	cases := []struct {
		name       string
		region     string
		start, end *time.Time
		wantKeys   int
		code       string
	}{
		{"current_key_us_east_1", "us-east-1", nil, nil, 1, ""},
		{"current_key_eu_west_1", "eu-west-1", nil, nil, 1, ""},
		{"range_around_now", "us-east-1", aws.Time(now.Add(-time.Hour)), aws.Time(now.Add(2 * time.Hour)), 1, ""},
		{"range_before_the_key", "us-east-1", aws.Time(now.Add(-30 * 24 * time.Hour)), aws.Time(now.Add(-29 * 24 * time.Hour)), 0, ""},
		{"start_after_end", "us-east-1", aws.Time(now), aws.Time(now.Add(-time.Hour)), 0, "InvalidTimeRangeException"},
	}
	fingerprints := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.ct(creds, tc.region).ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: tc.start, EndTime: tc.end})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			must(t, err)
			if len(out.PublicKeyList) != tc.wantKeys {
				t.Fatalf("%d keys, want %d", len(out.PublicKeyList), tc.wantKeys)
			}
			for _, k := range out.PublicKeyList {
				pub, err := x509.ParsePKCS1PublicKey(k.Value)
				if err != nil || pub.N.BitLen() != 2048 {
					t.Fatalf("Value is not a 2048-bit PKCS#1 DER key: %v", err)
				}
				sum := md5.Sum(k.Value)
				if aws.ToString(k.Fingerprint) != hex.EncodeToString(sum[:]) {
					t.Errorf("Fingerprint %s, want the MD5 of Value", aws.ToString(k.Fingerprint))
				}
				if k.ValidityStartTime == nil || k.ValidityEndTime == nil || k.ValidityStartTime.After(now) || !k.ValidityEndTime.After(now) {
					t.Errorf("validity %v–%v does not hold now", k.ValidityStartTime, k.ValidityEndTime)
				}
				if f, seen := fingerprints[tc.region]; seen && f != aws.ToString(k.Fingerprint) {
					t.Errorf("the key of %s changed", tc.region)
				}
				fingerprints[tc.region] = aws.ToString(k.Fingerprint)
				want, err := e.emu.SigningKeyFingerprint(tc.region)
				must(t, err)
				if want != aws.ToString(k.Fingerprint) {
					t.Errorf("SigningKeyFingerprint %s, ListPublicKeys %s", want, aws.ToString(k.Fingerprint))
				}
			}
		})
	}
	if fingerprints["us-east-1"] == fingerprints["eu-west-1"] {
		t.Error("two regions share a signing key")
	}

	t.Run("aws_cli_v1_reads_the_key", func(t *testing.T) {
		code, out, errOut := newCLIv1(t, e, creds).run("us-east-1", "cloudtrail", "list-public-keys", "--output", "json")
		if code != 0 {
			t.Fatalf("list-public-keys: exit %d: %s", code, errOut)
		}
		var got struct {
			PublicKeyList []struct{ Value, Fingerprint string }
		}
		must(t, json.Unmarshal([]byte(out), &got))
		if len(got.PublicKeyList) != 1 {
			t.Fatalf("list-public-keys: %s", out)
		}
		der, err := base64.StdEncoding.DecodeString(got.PublicKeyList[0].Value)
		must(t, err)
		sum := md5.Sum(der)
		if hex.EncodeToString(sum[:]) != got.PublicKeyList[0].Fingerprint || got.PublicKeyList[0].Fingerprint != fingerprints["us-east-1"] {
			t.Errorf("the CLI's Value does not hash to its Fingerprint: %s", out)
		}
	})
}
