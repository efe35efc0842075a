// Command simulator produces v1 events for a modelled fleet of devices to
// Kafka (or Event Hubs' Kafka endpoint). Kafka settings come from the
// environment (KAFKA_BROKERS, KAFKA_AUTH=none|plain|oauth,
// KAFKA_CONNECTION_STRING, KAFKA_TOPIC); the workload shape from flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/logging"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
	"github.com/sluicehq/sluice/workloads/internal/version"
)

func main() {
	logging.Setup("simulator")
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		slog.Error("simulator failed", "err", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	sites := fs.Int("sites", 12, "number of sites")
	devices := fs.Int("devices", 500, "number of devices, spread over the sites")
	rate := fs.Float64("rate", 1000, "target events per second (0 = as fast as possible)")
	count := fs.Int64("count", 0, "total records to produce (0 = use -duration)")
	duration := fs.Duration("duration", 0, "how long to produce (0 = use -count)")
	warning := fs.Float64("warning-share", simulate.DefaultMix.Warning, "share of warning events")
	critical := fs.Float64("critical-share", simulate.DefaultMix.Critical, "share of critical events")
	invalid := fs.Float64("invalid-share", 0, "share of deliberately invalid records (for testing the DLQ)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Println(version.String("simulator"))
		return nil
	}
	env := envconfig.New()
	kc := kafkaclient.FromEnv(env, "sluice-simulator")
	if err := env.Err(); err != nil {
		return err
	}
	plan := simulate.Plan{Rate: *rate, Count: *count, Duration: *duration}
	if err := plan.Validate(); err != nil {
		return err
	}
	gen, err := simulate.NewGenerator(*sites, *devices, simulate.Mix{Warning: *warning, Critical: *critical, Invalid: *invalid}, *seed)
	if err != nil {
		return err
	}
	sc, err := kc.Sarama(nil)
	if err != nil {
		return err
	}
	ap, err := sarama.NewAsyncProducer(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("connect producer: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	total := plan.Count
	if total <= 0 {
		total = int64(plan.Rate * plan.Duration.Seconds())
	}
	bar := progress.New("produced", total)
	p := &simulate.Producer{AP: ap, Topic: kc.Topic, Gen: gen}
	stopBar := progress.Tick(func() {
		s := p.Stats()
		bar.Set(s.Acked, fmt.Sprintf("invalid %d · failed %d", s.Invalid, s.Failed))
	})
	start := time.Now()
	st, err := p.Run(ctx, plan)
	stopBar()
	bar.Finish()
	el := time.Since(start)
	slog.Info("done", "acked", st.Acked, "valid", st.Valid, "invalid", st.Invalid, "failed", st.Failed,
		"seconds", el.Seconds(), "events_per_s", float64(st.Acked)/el.Seconds())
	return err
}
