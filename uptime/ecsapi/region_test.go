package ecsapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
	"ecs-uptime/uptime/ecsmeta/fakeendpoint"
)

// metadataEndpoint serves testdata/task-metadata.json (a task in
// ap-southeast-2) as the task metadata endpoint v4 does.
func metadataEndpoint(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("testdata/task-metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	task, err := fakeendpoint.NewTask(doc, "ecs-uptime", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(task)
	t.Cleanup(srv.Close)
	return srv.URL + "/v4/9781c248b5f24a1c8b3f6f1e0c2d4a57-1234567890"
}

// imdsEndpoint serves the two IMDSv2 calls the SDK makes for the region:
// a session token, then the instance identity document.
func imdsEndpoint(t *testing.T, region string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
		w.Write([]byte("imds-test-token"))
	})
	mux.HandleFunc("GET /latest/dynamic/instance-identity/document", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-test-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"accountId":"123456789012","architecture":"x86_64","availabilityZone":"` + region + `a","imageId":"ami-0123456789abcdef0","instanceId":"i-0123456789abcdef0","instanceType":"m5.large","privateIp":"10.0.0.12","region":"` + region + `","version":"2017-09-30"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRegions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string // on top of the fake's environment without a region
		opts    func(t *testing.T) ecsapi.Options
		want    []string
		wantErr []string // an ErrNoRegion whose message contains these
	}{
		{
			name: "AWS_REGION",
			env:  map[string]string{"AWS_REGION": "eu-west-1"},
			want: []string{"eu-west-1"},
		},
		{
			name: "AWS_DEFAULT_REGION",
			env:  map[string]string{"AWS_DEFAULT_REGION": "eu-central-1"},
			want: []string{"eu-central-1"},
		},
		{
			name: "ECS_UPTIME_REGIONS wins over the SDK's region; duplicates and blanks go",
			env:  map[string]string{"AWS_REGION": "eu-west-1"},
			opts: func(*testing.T) ecsapi.Options {
				return ecsapi.Options{Regions: []string{"us-east-1", " eu-west-1", "us-east-1", ""}}
			},
			want: []string{"us-east-1", "eu-west-1"},
		},
		{
			name: "no SDK region: the region of the task it runs in",
			opts: func(t *testing.T) ecsapi.Options { return ecsapi.Options{MetadataURI: metadataEndpoint(t)} },
			want: []string{"ap-southeast-2"},
		},
		{
			name: "no SDK region, no task metadata: the EC2 instance's (IMDS)",
			env:  map[string]string{"AWS_EC2_METADATA_DISABLED": "false"},
			opts: func(t *testing.T) ecsapi.Options {
				t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imdsEndpoint(t, "sa-east-1"))
				return ecsapi.Options{}
			},
			want: []string{"sa-east-1"},
		},
		{
			name: "a task metadata endpoint that fails falls back to IMDS",
			env:  map[string]string{"AWS_EC2_METADATA_DISABLED": "false"},
			opts: func(t *testing.T) ecsapi.Options {
				t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imdsEndpoint(t, "sa-east-1"))
				srv := httptest.NewServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				return ecsapi.Options{MetadataURI: srv.URL + "/v4/x"}
			},
			want: []string{"sa-east-1"},
		},
		{
			name: "only cluster ARNs: their regions, no lookup",
			opts: func(*testing.T) ecsapi.Options {
				return ecsapi.Options{Clusters: []string{ecsfake.ClusterARN("us-west-2", "a"), ecsfake.ClusterARN("eu-north-1", "b"), ecsfake.ClusterARN("us-west-2", "c")}}
			},
			want: []string{"us-west-2", "eu-north-1"},
		},
		{
			name:    "none found: an error naming AWS_REGION and what was tried",
			wantErr: []string{"AWS_REGION", "ECS_UPTIME_REGIONS", "ECS_CONTAINER_METADATA_URI_V4 not set", "EC2 instance metadata"},
		},
		{
			name: "none found, the task metadata endpoint failing: its error is in the message",
			opts: func(t *testing.T) ecsapi.Options {
				srv := httptest.NewServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				return ecsapi.Options{MetadataURI: srv.URL + "/v4/x"}
			},
			wantErr: []string{"AWS_REGION", "task metadata", "HTTP 404"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			startFake(t, "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			opts := ecsapi.Options{}
			if tc.opts != nil {
				opts = tc.opts(t)
			}
			opts.Rate = 1
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			src, err := ecsapi.New(ctx, opts)
			if tc.wantErr != nil {
				if !errors.Is(err, ecsapi.ErrNoRegion) {
					t.Fatalf("New = %v, want ErrNoRegion", err)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := src.Regions(); !slices.Equal(got, tc.want) {
				t.Errorf("regions %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRegionFromTaskMetadataIsScanned: the region found through the task
// metadata endpoint is the one the calls are signed for.
func TestRegionFromTaskMetadataIsScanned(t *testing.T) {
	fake := startFake(t, "")
	arn := fake.AddTask(ecsfake.Task{Region: "ap-southeast-2", Cluster: "ops", StartedAt: time.Now()})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "ops", StartedAt: time.Now()})
	tasks, err := scan(t, newSource(t, ecsapi.Options{MetadataURI: metadataEndpoint(t)}))
	if err != nil {
		t.Fatal(err)
	}
	if got := arnsOf(tasks); !slices.Equal(got, []string{arn}) {
		t.Errorf("scanned %v, want only the ap-southeast-2 task %s", got, arn)
	}
}
