package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeIaCCorpus writes tf Terraform files (ten per module directory, one
// trail each, half of them multi-region) and cfn CloudFormation templates.
func writeIaCCorpus(b *testing.B, dir string, tf, cfn int) {
	b.Helper()
	for i := range tf {
		d := filepath.Join(dir, "tf", fmt.Sprintf("m%04d", i/10))
		os.MkdirAll(d, 0o755)
		src := fmt.Sprintf(`variable "multi_%d" {
  default = %t
}
locals {
  name_%d = "trail-%d"
}
resource "aws_cloudtrail" "t%d" {
  name                  = local.name_%d
  s3_bucket_name        = "bucket-%d"
  is_multi_region_trail = var.multi_%d
  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }
}
`, i, i%2 == 0, i, i, i, i, i, i)
		os.WriteFile(filepath.Join(d, fmt.Sprintf("f%d.tf", i)), []byte(src), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "cfn"), 0o755)
	for i := range cfn {
		src := fmt.Sprintf(`AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: prod
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Trail%d:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: !Sub "logs-${Env}-%d"
      IsMultiRegionTrail: !If [IsProd, %t, false]
`, i, i, i%2 == 0)
		os.WriteFile(filepath.Join(dir, "cfn", fmt.Sprintf("t%d.yaml", i)), []byte(src), 0o644)
	}
}

// BenchmarkIaC checks a generated corpus of 10,000 Terraform files and
// 2,000 CloudFormation templates end to end (walk, parse, evaluate, JSON
// report) and reports files per second.
func BenchmarkIaC(b *testing.B) {
	const tf, cfn = 10000, 2000
	dir := b.TempDir()
	writeIaCCorpus(b, dir, tf, cfn)
	b.ResetTimer()
	for range b.N {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"iac", dir, "--format", "json"}, &out, &errb); code != 1 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
	b.ReportMetric(float64(tf+cfn)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
