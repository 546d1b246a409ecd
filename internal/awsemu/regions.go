package awsemu

// Region opt-in status values, as EC2 DescribeRegions reports them.
const (
	OptInNotRequired = "opt-in-not-required"
	OptedIn          = "opted-in"
	NotOptedIn       = "not-opted-in"
)

// defaultRegions are the commercial regions enabled in every account,
// which need no opt-in.
var defaultRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2", "ca-central-1",
	"eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
	"sa-east-1",
}

// optInRegions are regions an account must enable before using them (AWS
// Account Management guide: "Regions launched after March 20, 2019 are
// disabled by default"; enabling one distributes the account's IAM
// resources to it, and disabling it "will remove all IAM access"). Until
// then the account's credentials do not exist there, so every service
// answers as it does to an unknown key: CloudTrail
// UnrecognizedClientException ("The security token included in the
// request is invalid"), STS InvalidClientTokenId, EC2 AuthFailure, S3
// InvalidAccessKeyId.
var optInRegions = []string{
	"af-south-1", "ap-east-1", "eu-south-1", "me-south-1", "ap-southeast-3",
}

// regionOptIn is the status of region in an account's table, "" when the
// emulator does not know the region.
func (a *account) regionOptIn(region string) string {
	if s, ok := a.optIn[region]; ok {
		return s
	}
	for _, r := range defaultRegions {
		if r == region {
			return OptInNotRequired
		}
	}
	for _, r := range optInRegions {
		if r == region {
			return NotOptedIn
		}
	}
	return ""
}

// regionEnabled reports whether the account may use the region.
func (a *account) regionEnabled(region string) bool {
	s := a.regionOptIn(region)
	return s == OptInNotRequired || s == OptedIn
}

// allRegions lists every region the emulator knows, in a stable order.
func allRegions() []string {
	return append(append([]string(nil), defaultRegions...), optInRegions...)
}
