package ecsapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"

	"ecs-uptime/uptime"
)

// NoCredentialsError is a call that found no AWS credentials anywhere the
// SDK's default chain looks. Its message says, in one line, where that was
// and what to set, instead of the SDK's chain of wrapped errors that ends
// at the last place it looked ("no EC2 IMDS role found … StatusCode: 403").
type NoCredentialsError struct {
	// Err is the instance profile's failure, the chain's last resort.
	Err error
}

func (e *NoCredentialsError) Error() string {
	return "no AWS credentials found: the AWS SDK looked in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), " +
		"the shared config and credentials files (AWS_PROFILE, ~/.aws), the ECS task role " +
		"(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, which ECS sets only for a task definition with a taskRoleArn) " +
		"and the EC2 instance profile (" + imdsCause(e.Err) + "); give the task a task role (taskRoleArn), " +
		"or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
}

func (e *NoCredentialsError) Unwrap() error { return e.Err }

// imdsCause says in a few words why the instance profile gave nothing.
func imdsCause(err error) string {
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		return fmt.Sprintf("the instance metadata service answered HTTP %d: no role", status.HTTPStatusCode())
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			break
		}
		err = inner
	}
	if err == nil {
		return "nothing"
	}
	return err.Error()
}

// explainCredentials returns the credentials a client should use: p, and
// when p is the default chain's last resort, the EC2 instance profile
// (config.LoadDefaultConfig picks it only when no other source is
// configured), p behind one that turns its failure into a
// *NoCredentialsError. Any other source (a task role, a profile, keys) is
// configured on purpose and keeps its own errors.
func explainCredentials(p aws.CredentialsProvider) aws.CredentialsProvider {
	if p == nil || !aws.IsCredentialsProvider(p, (*ec2rolecreds.Provider)(nil)) {
		return p
	}
	return aws.NewCredentialsCache(instanceProfile{p})
}

// instanceProfile is the chain's last resort, failing as NoCredentialsError.
type instanceProfile struct{ aws.CredentialsProvider }

func (p instanceProfile) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &NoCredentialsError{Err: err}
	}
	return c, nil
}

// noCredentials returns the *NoCredentialsError that every unread part
// failed with, or nil when any part failed otherwise: with no credentials
// there is one thing to say, not one line per region and cluster.
func noCredentials(unread []uptime.Unread) error {
	var first *NoCredentialsError
	for _, u := range unread {
		var nc *NoCredentialsError
		if !errors.As(u.Err, &nc) {
			return nil
		}
		if first == nil {
			first = nc
		}
	}
	if first == nil {
		return nil
	}
	return first
}
