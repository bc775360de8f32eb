package ecsapi

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger routes the AWS SDK's own log lines (aws.Config.Logger, such as
// "falling back to IMDSv1") into the program's logger, so that a JSON log
// stays JSON: the SDK's default writes "SDK 2026/12/03 … WARN …" lines
// of its own to standard error. Its warnings are warnings; everything
// else it logs is debug.
type sdkLogger struct {
	log *slog.Logger
	ctx context.Context
}

func newSDKLogger(log *slog.Logger) logging.Logger {
	return sdkLogger{log: log, ctx: context.Background()}
}

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	if !l.log.Enabled(l.ctx, level) {
		return
	}
	l.log.Log(l.ctx, level, fmt.Sprintf(format, v...), slog.String("from", "aws-sdk"))
}

// WithContext implements logging.ContextLogger: the SDK passes each
// operation's context, which a handler may read.
func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	return sdkLogger{log: l.log, ctx: ctx}
}
