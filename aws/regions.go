package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/trailguard/trailguard"
)

// EC2 DescribeRegions is the one EC2 operation a scan calls. It is sent
// through the SDK's own middleware stack — the configuration's credential
// chain, SigV4 signer, retryer (throttling, 5xx, connection errors),
// HTTP client and API options (the call counter) — but without the
// generated EC2 client: that package is by far the largest of the SDK
// (hundreds of operations) and compiling it took 122 s of a 299 s first
// build and the whole 3.3 GB memory peak, for this single call. The wire
// format (EC2 query protocol, version 2016-11-15) is small and stable, and
// the emulator and the real AWS CLI tests keep this reader honest.

const (
	ec2APIVersion = "2016-11-15"
	// maxRegionsResponse bounds the response read: the real one is a few
	// kilobytes.
	maxRegionsResponse = 1 << 20
)

// describeRegions lists every region of the account (AllRegions), with its
// opt-in status, sorted by name. The string is the reason when it failed.
func describeRegions(ctx context.Context, cfg sdkaws.Config, who principal) ([]trailguard.Region, string) {
	regions, err := DescribeRegions(ctx, cfg)
	if err != nil {
		return nil, regionsFailed(ctx, cfg, who, err)
	}
	return regions, ""
}

// regionsFailed words a DescribeRegions error.
func regionsFailed(ctx context.Context, cfg sdkaws.Config, who principal, err error) string {
	return describeErr(ctx, fmt.Sprintf("ec2:DescribeRegions in %s", cfg.Region), who, err)
}

// DescribeRegions calls EC2 DescribeRegions with AllRegions=true in
// cfg.Region and returns the regions sorted by name.
func DescribeRegions(ctx context.Context, cfg sdkaws.Config) ([]trailguard.Region, error) {
	endpoint, err := ec2Endpoint(cfg)
	if err != nil {
		return nil, err
	}
	stack := middleware.NewStack("DescribeRegions", smithyhttp.NewStackRequest)
	steps := []func(*middleware.Stack) error{
		func(s *middleware.Stack) error {
			return s.Initialize.Add(&awsmiddleware.RegisterServiceMetadata{
				ServiceID: "EC2", SigningName: "ec2", Region: cfg.Region, OperationName: "DescribeRegions",
			}, middleware.Before)
		},
		func(s *middleware.Stack) error {
			return s.Serialize.Add(ec2QuerySerializer{endpoint: endpoint}, middleware.After)
		},
		func(s *middleware.Stack) error { return s.Finalize.Add(sigV4Signer{cfg: cfg}, middleware.After) },
		func(s *middleware.Stack) error {
			retryer := sdkaws.Retryer(retry.NewStandard())
			if cfg.Retryer != nil {
				retryer = cfg.Retryer()
			}
			return retry.AddRetryMiddlewares(s, retry.AddRetryMiddlewaresOptions{Retryer: retryer})
		},
		func(s *middleware.Stack) error {
			return s.Deserialize.Add(describeRegionsDeserializer{}, middleware.After)
		},
	}
	for _, fn := range append(steps, cfg.APIOptions...) {
		if err := fn(stack); err != nil {
			return nil, fmt.Errorf("describe regions: %w", err)
		}
	}
	var client smithyhttp.ClientDo = cfg.HTTPClient
	if client == nil {
		client = awshttp.NewBuildableClient()
	}
	handler := middleware.DecorateHandler(smithyhttp.NewClientHandler(client), stack)
	out, _, err := handler.Handle(ctx, struct{}{})
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeRegions", Err: err}
	}
	regions := out.([]trailguard.Region)
	sort.Slice(regions, func(i, j int) bool { return regions[i].Name < regions[j].Name })
	return regions, nil
}

// ec2Endpoint follows the SDK's endpoint rules as far as a scan needs
// them: --endpoint-url or AWS_ENDPOINT_URL (cfg.BaseEndpoint), then the
// service-specific AWS_ENDPOINT_URL_EC2, then the regional endpoint of the
// region's partition (FIPS when AWS_USE_FIPS_ENDPOINT is true).
func ec2Endpoint(cfg sdkaws.Config) (string, error) {
	if v := os.Getenv("AWS_ENDPOINT_URL_EC2"); v != "" && !ignoreConfiguredEndpoints() {
		return v, nil
	}
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return *cfg.BaseEndpoint, nil
	}
	region := cfg.Region
	if region == "" {
		return "", fmt.Errorf("describe regions: no region set (give --region or AWS_REGION)")
	}
	if !validRegionName(region) {
		return "", fmt.Errorf("describe regions: %q is not a region name", region)
	}
	host := "ec2"
	if strings.EqualFold(os.Getenv("AWS_USE_FIPS_ENDPOINT"), "true") {
		host = "ec2-fips"
	}
	return "https://" + host + "." + region + "." + dnsSuffix(region), nil
}

func ignoreConfiguredEndpoints() bool {
	return strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
}

// validRegionName keeps a region name from becoming anything but a DNS
// label in the endpoint's host.
func validRegionName(r string) bool {
	if r == "" || len(r) > 63 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// dnsSuffix is the DNS suffix of a region's partition.
func dnsSuffix(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-isob-"):
		return "sc2s.sgov.gov"
	case strings.HasPrefix(region, "us-isof-"):
		return "csp.hci.ic.gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "c2s.ic.gov"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "cloud.adc-e.uk"
	}
	return "amazonaws.com"
}

// ec2QuerySerializer writes the DescribeRegions request in the EC2 query
// protocol: a form-encoded POST to the endpoint's path.
type ec2QuerySerializer struct{ endpoint string }

func (ec2QuerySerializer) ID() string { return "OperationSerializer" }

func (m ec2QuerySerializer) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected request type %T", in.Request)
	}
	u, err := url.Parse(m.endpoint)
	if err != nil || u.Host == "" {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("endpoint %q is not a URL", m.endpoint)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	req.URL = u
	req.Method = http.MethodPost
	body := url.Values{"Action": {"DescribeRegions"}, "Version": {ec2APIVersion}, "AllRegions": {"true"}}.Encode()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if req, err = req.SetStream(bytes.NewReader([]byte(body))); err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, err
	}
	req.ContentLength = int64(len(body))
	in.Request = req
	return next.HandleSerialize(ctx, in)
}

// sigV4Signer signs each attempt with the configuration's credentials. It
// is named "Signing" so that the retry middleware runs before it, as in
// every generated client: each retry is signed anew.
type sigV4Signer struct{ cfg sdkaws.Config }

func (sigV4Signer) ID() string { return "Signing" }

func (m sigV4Signer) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected request type %T", in.Request)
	}
	if m.cfg.Credentials == nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("no credentials to sign with")
	}
	creds, err := m.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("retrieve credentials: %w", err)
	}
	h := sha256.New()
	if s := req.GetStream(); s != nil {
		if _, err := io.Copy(h, s); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
		if err := req.RewindStream(); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
	}
	built := req.Build(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, creds, built, hex.EncodeToString(h.Sum(nil)), "ec2", m.cfg.Region, time.Now().UTC()); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("sign request: %w", err)
	}
	// The signature lives in the headers of the built request; carry them
	// back to the request the transport sends.
	req.Header = built.Header
	return next.HandleFinalize(ctx, in)
}

// describeRegionsDeserializer reads the DescribeRegions answer, or the EC2
// error document as a smithy API error (so that the retryer sees
// RequestLimitExceeded and the 5xx codes, and the scan's error messages
// see AccessDenied / UnauthorizedOperation).
type describeRegionsDeserializer struct{}

func (describeRegionsDeserializer) ID() string { return "OperationDeserializer" }

func (describeRegionsDeserializer) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok {
		return out, md, fmt.Errorf("unexpected response type %T", out.RawResponse)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRegionsResponse+1))
	if err != nil {
		return out, md, &smithyhttp.ResponseError{Response: resp, Err: fmt.Errorf("read response: %w", err)}
	}
	if len(body) > maxRegionsResponse {
		return out, md, &smithyhttp.ResponseError{Response: resp, Err: fmt.Errorf("response larger than %d bytes", maxRegionsResponse)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var doc struct {
			Errors []struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Errors>Error"`
		}
		apiErr := &smithy.GenericAPIError{Code: http.StatusText(resp.StatusCode), Message: strings.TrimSpace(string(body))}
		if xml.Unmarshal(body, &doc) == nil && len(doc.Errors) > 0 {
			apiErr = &smithy.GenericAPIError{Code: doc.Errors[0].Code, Message: doc.Errors[0].Message}
		}
		if resp.StatusCode >= 500 {
			apiErr.Fault = smithy.FaultServer
		} else {
			apiErr.Fault = smithy.FaultClient
		}
		return out, md, &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: resp, Err: apiErr}, RequestID: resp.Header.Get("x-amzn-RequestId")}
	}
	var doc struct {
		Items []struct {
			RegionName  string `xml:"regionName"`
			OptInStatus string `xml:"optInStatus"`
		} `xml:"regionInfo>item"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return out, md, &smithyhttp.ResponseError{Response: resp, Err: fmt.Errorf("DescribeRegions response: %w", err)}
	}
	regions := make([]trailguard.Region, 0, len(doc.Items))
	for _, it := range doc.Items {
		regions = append(regions, trailguard.Region{Name: it.RegionName, OptInStatus: it.OptInStatus})
	}
	out.Result = regions
	return out, md, nil
}
