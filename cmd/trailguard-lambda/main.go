// Command trailguard-lambda is the AWS Lambda function that keeps CIS AWS
// Foundations 3.1 true: an AWS Config custom rule and an EventBridge target
// for CloudTrail API calls. It only wires package control to the Lambda
// runtime; the logic and its tests live in control.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/trailguard/trailguard/control"
)

func main() {
	settings, err := control.SettingsFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trailguard-lambda:", err)
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "trailguard-lambda: AWS configuration:", err)
		os.Exit(1)
	}
	h := &control.Handler{Config: cfg, Settings: settings}
	lambda.Start(h.Handle)
}
