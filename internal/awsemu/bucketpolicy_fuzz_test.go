package awsemu

import "testing"

// FuzzPolicyCheck: no bucket or key policy a client sends makes the
// CloudTrail destination check panic, and a policy without an Allow for
// CloudTrail never passes it.
func FuzzPolicyCheck(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:*","Resource":"arn:aws:s3:::b*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:1:trail/*"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":["s3:GetBucketAcl","s3:PutObject"],"Resource":["*"]}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"*","Resource":"*"}]}`)
	f.Add(`not json`)
	t := &trail{account: "1", arn: "arn:aws:cloudtrail:us-east-1:1:trail/t", bucket: "b"}
	f.Fuzz(func(tt *testing.T, doc string) {
		p := parseBucketPolicy(doc)
		ok := p.allows("s3:PutObject", "arn:aws:s3:::b/AWSLogs/1/CloudTrail/x", t)
		if ok {
			allow := false
			for _, s := range p.statements {
				if s.Effect == "Allow" {
					allow = true
				}
			}
			if !allow {
				tt.Fatalf("passed without an Allow: %s", doc)
			}
		}
	})
}
