// Command trailguard-lambda is the AWS Lambda function that keeps CIS AWS
// Foundations 3.1 true: an AWS Config custom rule and an EventBridge target
// for CloudTrail API calls. It only wires package control to the Lambda
// runtime; the logic and its tests live in control.
//
// It is built for the provided.al2023 runtime as
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -tags lambda.norpc -o bootstrap ./cmd/trailguard-lambda
//
// lambda.norpc leaves out aws-lambda-go's RPC mode, which only the retired
// go1.x runtime used (a quarter of the binary). The tests in this package
// run the binary under AWS's Lambda runtime interface emulator.
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
