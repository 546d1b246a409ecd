package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func TestKMS(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	k := e.kms(c, "us-east-1")
	created, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("plain")})
	must(t, err)
	id := aws.ToString(created.KeyMetadata.KeyId)
	_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/plain"), TargetKeyId: aws.String(id)})
	must(t, err)
	_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/plain"), TargetKeyId: aws.String(id)})
	wantCode(t, err, "AlreadyExistsException")
	d, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/plain")})
	must(t, err)
	if aws.ToString(d.KeyMetadata.Arn) != aws.ToString(created.KeyMetadata.Arn) {
		t.Errorf("alias resolves to %s", aws.ToString(d.KeyMetadata.Arn))
	}
	_, err = k.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)})
	must(t, err)
	rot, err := k.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	must(t, err)
	if !rot.KeyRotationEnabled {
		t.Error("rotation not enabled")
	}
	pol, err := k.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
	must(t, err)
	if !strings.Contains(aws.ToString(pol.Policy), ":root") {
		t.Errorf("default policy %s", aws.ToString(pol.Policy))
	}
	_, err = k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/missing")})
	wantCode(t, err, "NotFoundException")
	// Another account sees none of it.
	_, err = e.kms(e.emu.AddAccount(acctB), "us-east-1").DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	wantCode(t, err, "NotFoundException")
}

// CreateTrail checks the trail's key as AWS does.
func TestCreateTrail_checks_the_kms_key(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	e.bucket(t, c, "us-east-1", "enc-logs")
	create := func(key string) error {
		_, err := e.ct(c, "us-east-1").CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("enc"), S3BucketName: aws.String("enc-logs"), KmsKeyId: aws.String(key)})
		return err
	}
	wantCode(t, create("alias/nope"), "KmsKeyNotFoundException")
	plain, err := e.kms(c, "us-east-1").CreateKey(ctx, &kms.CreateKeyInput{})
	must(t, err)
	wantCode(t, create(aws.ToString(plain.KeyMetadata.KeyId)), "InsufficientEncryptionPolicyException")
	other := e.cloudTrailKey(t, c, "eu-west-1")
	wantCode(t, create("arn:aws:kms:eu-west-1:"+acctA+":key/"+other), "KmsKeyNotFoundException") // another region
	good := e.cloudTrailKey(t, c, "us-east-1")
	_, err = e.kms(c, "us-east-1").CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/trail"), TargetKeyId: aws.String(good)})
	must(t, err)
	must(t, create("alias/trail"))
}
