package ecsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"ecs-uptime/uptime"
)

// Refresh is how often the organization's accounts and each account's
// enabled regions are read again: new accounts and regions join within it.
const Refresh = time.Hour

// SessionName is the session name of every role the Source assumes: it is
// what CloudTrail shows in the member accounts.
const SessionName = "ecs-uptime"

// SessionDuration is how long the credentials of an assumed role last: an
// hour, the longest a role gives by default and the most a role chain
// (a scanner running with a task role) allows. They are renewed
// RenewBefore their expiry, so one AssumeRole per account per
// SessionDuration - RenewBefore, never one per scan.
const (
	SessionDuration = time.Hour
	RenewBefore     = time.Minute
)

// orgState is what a Source reading several accounts knows of them.
type orgState struct {
	list         []string // Options.Accounts; nil with organization
	organization bool
	roleName     string
	externalID   *string

	sts *sts.Client // with the credentials' own account

	self, partition string // the credentials' own account, once known

	listed    []string  // the organization's ACTIVE accounts, last read
	listedAt  time.Time // when; zero: never
	listFails bool      // the last re-read failed (and was logged)
}

func newOrgState(opts Options) *orgState {
	o := &orgState{organization: opts.Organization, roleName: opts.RoleName}
	if o.roleName == "" {
		o.roleName = DefaultRoleName
	}
	if opts.ExternalID != "" {
		o.externalID = aws.String(opts.ExternalID)
	}
	for _, a := range opts.Accounts {
		if a = strings.TrimSpace(a); a != "" {
			o.list = appendNew(o.list, a)
		}
	}
	return o
}

// accountState is what the Source keeps of one account between scans.
type accountState struct {
	id    string                  // "" for the credentials' own account, when it is the only one
	role  string                  // the role ARN assumed; "" for the credentials' own account
	creds aws.CredentialsProvider // a cache of the role's sessions, or the SDK's own

	regions      []string  // enabled regions, with AllRegions
	regionsAt    time.Time // when they were read; zero: never
	regionsFails bool      // the last re-read failed (and was logged)
}

// accountRegions is an account that a scan reads, and its regions with
// AllRegions.
type accountRegions struct {
	id      string
	regions []string
}

// accounts returns the accounts a scan reads, with their regions, and the
// parts it cannot read: each account whose role cannot be assumed, or
// whose regions were never listed. A read that finds no account at all (the
// scanner's own account or the organization's list could never be read)
// is an error.
func (s *Source) accounts(ctx context.Context) ([]accountRegions, []uptime.Unread, error) {
	ids := []string{""}
	if s.org != nil {
		var err error
		if ids, err = s.org.accounts(ctx, s); err != nil {
			return nil, nil, err
		}
	}
	states := s.accountStates(ids)
	needRegions := s.allRegions && (len(s.names) > 0 || len(s.arns) == 0)
	out := make([]accountRegions, len(states))
	unread := make([]*uptime.Unread, len(states))
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for i, a := range states {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i], unread[i] = s.prepare(ctx, a, needRegions)
		})
	}
	wg.Wait()
	var read []accountRegions
	var parts []uptime.Unread
	for i := range states {
		if unread[i] != nil {
			parts = append(parts, *unread[i])
		} else {
			read = append(read, out[i])
		}
	}
	// A cluster ARN of an account the organization no longer lists.
	if s.org != nil {
		for _, arn := range s.arns {
			if acct, r, _ := arnPlace(arn); !slices.Contains(ids, acct) {
				parts = append(parts, uptime.Unread{Account: acct, Region: r, Cluster: uptime.ClusterName(arn),
					Err: fmt.Errorf("account %s is not an ACTIVE account of the organization", acct)})
			}
		}
	}
	return read, parts, nil
}

// accountStates returns the state of each account, making the missing
// ones, and forgets the accounts no longer read with their ECS clients.
func (s *Source) accountStates(ids []string) []*accountState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accts == nil {
		s.accts = map[string]*accountState{}
	}
	out := make([]*accountState, len(ids))
	for i, id := range ids {
		a := s.accts[id]
		if a == nil {
			a = s.newAccount(id)
			s.accts[id] = a
		}
		out[i] = a
	}
	for id := range s.accts {
		if !slices.Contains(ids, id) {
			delete(s.accts, id)
		}
	}
	for t := range s.targets {
		if !slices.Contains(ids, t.account) {
			delete(s.targets, t)
		}
	}
	return out
}

// newAccount returns the state of an account: the credentials' own, or one
// whose role is assumed with the SDK's provider behind a cache that renews
// the session RenewBefore it expires. s.mu is held.
func (s *Source) newAccount(id string) *accountState {
	a := &accountState{id: id, creds: s.cfg.Credentials}
	if s.org == nil || id == s.org.self {
		return a
	}
	a.role = "arn:" + s.org.partition + ":iam::" + id + ":role/" + s.org.roleName
	provider := stscreds.NewAssumeRoleProvider(s.org.sts, a.role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = SessionName
		o.Duration = SessionDuration
		o.ExternalID = s.org.externalID
	})
	a.creds = aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = RenewBefore })
	return a
}

// prepare makes sure an account can be read: its role's credentials (a
// call only when the cached session is near its end) and, when needed, its
// regions (re-read each Refresh; a failed re-read keeps the last list).
func (s *Source) prepare(ctx context.Context, a *accountState, needRegions bool) (accountRegions, *uptime.Unread) {
	if a.role != "" {
		if _, err := a.creds.Retrieve(ctx); err != nil {
			return accountRegions{}, &uptime.Unread{Account: a.id, Err: fmt.Errorf("assume role %s: %w", a.role, err)}
		}
	}
	if needRegions && (a.regionsAt.IsZero() || s.now().Sub(a.regionsAt) >= Refresh) {
		regions, err := s.listRegions(ctx, a)
		switch {
		case err == nil:
			if a.regionsFails {
				s.log.Info("the account's regions can be listed again", slog.String("account", a.id), slog.Int("regions", len(regions)))
			}
			a.regions, a.regionsAt, a.regionsFails = regions, s.now(), false
		case a.regionsAt.IsZero():
			return accountRegions{}, &uptime.Unread{Account: a.id, Err: fmt.Errorf("list regions: %w", err)}
		case !a.regionsFails:
			a.regionsFails = true
			s.log.Warn("cannot list the account's regions again; scanning the regions listed before until it answers",
				slog.String("account", a.id), slog.Any("regions", a.regions), slog.Time("listed_at", a.regionsAt), slog.Any("error", err))
		}
	}
	return accountRegions{id: a.id, regions: a.regions}, nil
}

// enabled are the region statuses of a region that can be read.
var enabled = []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault}

// listRegions returns the regions enabled in the account, asked with the
// account's own credentials (account:ListRegions without AccountId, which
// works in any account, in an organization or not).
func (s *Source) listRegions(ctx context.Context, a *accountState) ([]string, error) {
	client := account.NewFromConfig(s.cfg, func(o *account.Options) {
		o.Region = s.home
		o.Credentials = a.creds
		o.APIOptions = append(slices.Clone(o.APIOptions), s.pace(nil))
	})
	var regions []string
	pages := account.NewListRegionsPaginator(client, &account.ListRegionsInput{RegionOptStatusContains: enabled})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Regions {
			if name := aws.ToString(r.RegionName); name != "" && slices.Contains(enabled, r.RegionOptStatus) {
				regions = appendNew(regions, name)
			}
		}
	}
	slices.Sort(regions)
	return regions, nil
}

// accounts returns the IDs of the accounts to read: the list of Options,
// or the organization's ACTIVE accounts, re-read each Refresh (a failed
// re-read keeps the last list, logged once). The first call learns the
// credentials' own account (sts:GetCallerIdentity).
func (o *orgState) accounts(ctx context.Context, s *Source) ([]string, error) {
	if o.self == "" {
		o.sts = sts.NewFromConfig(s.cfg, func(so *sts.Options) {
			so.Region = s.home
			so.APIOptions = append(slices.Clone(so.APIOptions), s.pace(nil))
		})
		id, err := o.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("learn the scanner's own account (sts:GetCallerIdentity): %w", err)
		}
		o.self = aws.ToString(id.Account)
		o.partition = "aws"
		if f := strings.SplitN(aws.ToString(id.Arn), ":", 3); len(f) == 3 && f[1] != "" {
			o.partition = f[1]
		}
	}
	if !o.organization {
		return o.list, nil
	}
	if !o.listedAt.IsZero() && s.now().Sub(o.listedAt) < Refresh {
		return o.listed, nil
	}
	list, err := listOrganization(ctx, s)
	switch {
	case err == nil:
		if o.listFails {
			s.log.Info("the organization's accounts can be listed again", slog.Int("accounts", len(list)))
		}
		if joined, left := diff(o.listed, list); !o.listedAt.IsZero() && len(joined)+len(left) > 0 {
			s.log.Info("the organization's ACTIVE accounts changed", slog.Any("joined", joined), slog.Any("left", left))
		}
		o.listed, o.listedAt, o.listFails = list, s.now(), false
	case o.listedAt.IsZero():
		return nil, fmt.Errorf("list the organization's accounts (organizations:ListAccounts): %w", err)
	case !o.listFails:
		o.listFails = true
		s.log.Warn("cannot list the organization's accounts again; scanning the accounts listed before until it answers",
			slog.Int("accounts", len(o.listed)), slog.Time("listed_at", o.listedAt), slog.Any("error", err))
	}
	return o.listed, nil
}

// listOrganization returns the ACTIVE accounts of the organization, by ID.
// An account's State is read, and its Status where the answer has no
// State (Organizations retires Status in September 2026).
func listOrganization(ctx context.Context, s *Source) ([]string, error) {
	client := organizations.NewFromConfig(s.cfg, func(o *organizations.Options) {
		o.Region = s.home
		o.APIOptions = append(slices.Clone(o.APIOptions), s.pace(nil))
	})
	var ids []string
	pages := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Accounts {
			active := a.State == orgtypes.AccountStateActive || a.State == "" && a.Status == orgtypes.AccountStatusActive
			if id := aws.ToString(a.Id); active && id != "" {
				ids = appendNew(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("no ACTIVE account in the answer")
	}
	slices.Sort(ids)
	return ids, nil
}

// diff returns the items of b not in a, and of a not in b.
func diff(a, b []string) (added, removed []string) {
	for _, x := range b {
		if !slices.Contains(a, x) {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}
