package awsemu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

func TestTags(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	arn := e.trail(t, c, "us-east-1", "main", true)
	ct := e.ct(c, "us-east-1")
	_, err := ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("team"), Value: aws.String("sec")}, {Key: aws.String("env")}}})
	must(t, err)
	_, err = ct.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("env")}}})
	must(t, err)
	out, err := ct.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
	must(t, err)
	if len(out.ResourceTagList) != 1 || len(out.ResourceTagList[0].TagsList) != 1 || aws.ToString(out.ResourceTagList[0].TagsList[0].Value) != "sec" {
		t.Fatalf("tags %+v", out.ResourceTagList)
	}
	_, err = ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("")}}})
	wantErr[*cttypes.InvalidTagParameterException](t, err)
}
