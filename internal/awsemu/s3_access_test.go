package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Another account reads a bucket only as far as the bucket policy grants
// it (its account, root, role, or the organization by
// aws:PrincipalOrgID), an explicit Deny wins, a statement with a condition
// the emulator cannot judge grants nothing, and writes stay with the
// owner.
func TestS3CrossAccountRead(t *testing.T) {
	const b = "org-log-archive"
	stmt := func(effect, principal, actions, cond string) string {
		s := `{"Effect":"` + effect + `","Principal":` + principal + `,"Action":[` + actions + `],"Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"]`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + `}`
	}
	reads := `"s3:GetObject","s3:ListBucket","s3:GetBucketLocation"`
	cases := []struct {
		name       string
		statements []string // "" for no policy
		get, list  string   // error code, "" for success
	}{
		{"no_policy", nil, "AccessDenied", "AccessDenied"},
		{"account_granted", []string{stmt("Allow", `{"AWS":"`+member+`"}`, reads, "")}, "", ""},
		{"root_arn_granted_get_only", []string{stmt("Allow", `{"AWS":["arn:aws:iam::`+member+`:root"]}`, `"s3:GetObject"`, "")}, "", "AccessDenied"},
		{"organization_granted", []string{stmt("Allow", `"*"`, reads, `{"StringEquals":{"aws:PrincipalOrgID":"ORGID"}}`)}, "", ""},
		{"other_organization", []string{stmt("Allow", `"*"`, reads, `{"StringEquals":{"aws:PrincipalOrgID":"o-zzzzzzzzzz"}}`)}, "AccessDenied", "AccessDenied"},
		{"explicit_deny_wins", []string{stmt("Allow", `{"AWS":"`+member+`"}`, reads, ""), stmt("Deny", `"*"`, `"s3:GetObject"`, "")}, "AccessDenied", ""},
		{"unjudged_condition_grants_nothing", []string{stmt("Allow", `{"AWS":"`+member+`"}`, reads, `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, "AccessDenied", "AccessDenied"},
		{"other_account_not_granted", []string{stmt("Allow", `{"AWS":"`+acctB+`"}`, reads, "")}, "AccessDenied", "AccessDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			owner, reader := e.emu.AddAccount(mgmt), e.emu.AddAccount(member)
			e.emu.AddAccount(acctB)
			e.emu.SetOrganization(mgmt, member)
			org, err := e.org(owner).DescribeOrganization(ctx, nil)
			must(t, err)
			oc := e.s3(owner, "us-east-1")
			_, err = oc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
			must(t, err)
			putFixture(t, oc, b, []string{"AWSLogs/x.json.gz"})
			if tc.statements != nil {
				policy := `{"Version":"2012-10-17","Statement":[` + strings.ReplaceAll(strings.Join(tc.statements, ","), "ORGID", aws.ToString(org.Organization.Id)) + `]}`
				_, err = oc.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(policy)})
				must(t, err)
			}
			rc := e.s3(reader, "us-east-1")
			_, err = rc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("AWSLogs/x.json.gz")})
			checkCode(t, "GetObject", err, tc.get)
			_, err = rc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
			checkCode(t, "ListObjectsV2", err, tc.list)
			_, err = rc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("AWSLogs/x.json.gz"), Body: strings.NewReader("edited")})
			checkCode(t, "PutObject", err, "AccessDenied")
		})
	}
}

func checkCode(t *testing.T, op string, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s: %v", op, err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), code) {
		t.Errorf("%s: %v, want %s", op, err, code)
	}
}
