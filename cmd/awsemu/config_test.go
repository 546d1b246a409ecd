package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
)

// --lambda-endpoint and --config-period: a periodic rule put through the
// SDK runs on the served schedule, its function is invoked at the given
// URL with a result token, and what it reports reads back as compliance.
func TestServe_config_rule_runs_on_the_period_and_invokes_the_endpoint(t *testing.T) {
	events := make(chan map[string]any, 16)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev)
		events <- ev
	}))
	defer fn.Close()
	s := start(t, "--accounts", "1", "--lambda-endpoint", fn.URL, "--config-period", "100ms")
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.env["AWS_ENDPOINT_URL"]),
		Credentials:  credentials.NewStaticCredentialsProvider(s.env["AWS_ACCESS_KEY_ID"], s.env["AWS_SECRET_ACCESS_KEY"], ""),
	}
	client := configservice.NewFromConfig(cfg)
	ctx := context.Background()
	_, err := client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: &cstypes.ConfigRule{
		ConfigRuleName: aws.String("cis-3-1"),
		Source: &cstypes.Source{Owner: cstypes.OwnerCustomLambda, SourceIdentifier: aws.String("arn:aws:lambda:us-east-1:000000000000:function:rule"),
			SourceDetails: []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeScheduledNotification, MaximumExecutionFrequency: cstypes.MaximumExecutionFrequencyOneHour}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	select {
	case ev = <-events:
	case <-time.After(60 * time.Second):
		t.Fatal("the periodic rule's function was never invoked")
	}
	token, _ := ev["resultToken"].(string)
	if ev["configRuleName"] != "cis-3-1" || token == "" {
		t.Fatalf("event %v, want the rule's name and a result token", ev)
	}
	account, _ := ev["accountId"].(string)
	_, err = client.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(token), Evaluations: []cstypes.Evaluation{{
		ComplianceResourceType: aws.String("AWS::::Account"), ComplianceResourceId: aws.String(account),
		ComplianceType: cstypes.ComplianceTypeCompliant, OrderingTimestamp: aws.Time(time.Now()),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String("cis-3-1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.EvaluationResults) != 1 || out.EvaluationResults[0].ComplianceType != cstypes.ComplianceTypeCompliant {
		t.Errorf("results %+v, want the account COMPLIANT", out.EvaluationResults)
	}
	s.terminate(t)
}
