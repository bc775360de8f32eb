package ecsapi_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// A scan of two clusters against the fake ECS API, one of them denied: the
// tasks of the other, each with its status, come with a
// *uptime.PartialError naming the denied one. In production the SDK's default chain gives credentials, region and
// endpoint; here LoadOptions point it at the fake.
func Example() {
	fake := ecsfake.New()
	defer fake.Close()
	started := time.Now().Add(-26 * time.Hour)
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "jobs", Family: "db-migrate", Revision: 7,
		StartedBy: "github-actions/4711", StartedAt: started, Tags: ecsfake.Tags("ecs-uptime:max-lifetime", "6h", "team", "data")})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "jobs", LastStatus: "PENDING"})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "payments", StartedAt: started})
	fake.Inject(ecsfake.Fault{Cluster: "payments", Code: ecsfake.AccessDenied})

	ctx := context.Background()
	src, err := ecsapi.New(ctx, ecsapi.Options{
		Rate:           5,
		TaskTags:       []string{"team"},
		MaxLifetimeTag: "ecs-uptime:max-lifetime",
		LoadOptions: []func(*config.LoadOptions) error{
			config.WithRegion("eu-west-1"),
			config.WithBaseEndpoint(fake.URL),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ecsfake.AccessKeyID, ecsfake.SecretAccessKey, "")),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	tasks, err := src.Tasks(ctx)
	for _, t := range tasks {
		fmt.Printf("%s:%s in %s, %s, started by %q, tags %v, max lifetime %q\n",
			t.Family, t.Revision, t.Cluster, t.Status, t.StartedBy, t.ResourceTags, t.MaxLifetimeTag)
	}
	var partial *uptime.PartialError
	if errors.As(err, &partial) {
		for _, u := range partial.Unread {
			fmt.Println("not read:", u.Key())
		}
	}
	fmt.Println("API calls:", src.LastScan().Calls)
	// Output:
	// db-migrate:7 in jobs, RUNNING, started by "github-actions/4711", tags [{team data}], max lifetime "6h"
	// app:1 in jobs, PENDING, started by "", tags [], max lifetime ""
	// not read: eu-west-1/payments
	// API calls: 5
}
