package ecsapi

import "time"

// SetClock makes the source time its scans with now (the slow-scan log).
func SetClock(s *Source, now func() time.Time) { s.now = now }
