// Command franzgo is the franz-go (github.com/twmb/franz-go) runner of kafkaio's benchmark suite:
// it runs one job (the JSON of benchmarks.settings.Job, first argument) and prints its result as
// one JSON line prefixed with "BENCH-RESULT ", as the Python runners do.
//
// produce/Produce: Produce() per record with a promise, then Flush(); the clock runs from the
// first record until every promise has run. consume/PollRecords: a direct consumer (no group) of
// every partition from the start, PollRecords(max_records) until the job's records are read,
// touching every value.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const resultPrefix = "BENCH-RESULT "

// payloadPool and poolBytes match benchmarks.settings: the producer cycles through payloadPool
// distinct values, fewer (a power of two, at least 16) when they would take more than poolBytes.
const (
	payloadPool = 1024
	poolBytes   = 16 * 1024 * 1024
	// recordOverhead bounds a record batch's bytes beyond one value: batch header and record framing
	recordOverhead = 1024
)

type produceConfig struct {
	Acks              string `json:"acks"`
	EnableIdempotence bool   `json:"enable_idempotence"`
	LingerMs          int    `json:"linger_ms"`
	BatchSize         int32  `json:"batch_size"`
	MaxInFlight       int    `json:"max_in_flight"`
	BufferMemory      int    `json:"buffer_memory"`
	CompressionType   string `json:"compression_type"`
}

type consumeConfig struct {
	FetchMinBytes          int32 `json:"fetch_min_bytes"`
	FetchMaxWaitMs         int   `json:"fetch_max_wait_ms"`
	FetchMaxBytes          int32 `json:"fetch_max_bytes"`
	MaxPartitionFetchBytes int32 `json:"max_partition_fetch_bytes"`
	MaxRecords             int   `json:"max_records"`
}

type job struct {
	Scenario   string        `json:"scenario"`
	API        string        `json:"api"`
	Bootstrap  string        `json:"bootstrap"`
	Topic      string        `json:"topic"`
	Records    int           `json:"records"`
	RecordSize int           `json:"record_size"`
	Keys       int           `json:"keys"`
	Headers    int           `json:"headers"`
	Produce    produceConfig `json:"produce"`
	Consume    consumeConfig `json:"consume"`
}

// producerOpts maps the shared producer settings to franz-go's options. With idempotence franz-go
// keeps 5 requests in flight per broker (max.in.flight has no option then); it also bounds its
// buffer by records (50,000 by default), set high enough here for the bytes bound to bind first.
func producerOpts(j job) ([]kgo.Opt, error) {
	cfg := j.Produce
	codec, ok := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "lz4": kgo.Lz4Compression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "zstd": kgo.ZstdCompression(),
	}[cfg.CompressionType]
	if !ok {
		return nil, fmt.Errorf("unknown compression %q", cfg.CompressionType)
	}
	acks := map[string]kgo.Acks{"all": kgo.AllISRAcks(), "-1": kgo.AllISRAcks(), "1": kgo.LeaderAck(),
		"0": kgo.NoAck()}[cfg.Acks]
	// Java sends a record larger than batch.size in a batch of its own; franz-go fails it, so its
	// bound is raised to hold one such record (values of 100 KB against a 64 KiB batch.size)
	batchMax := cfg.BatchSize
	if limit := int32(j.RecordSize) + recordOverhead; limit > batchMax {
		batchMax = limit
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(j.Bootstrap, ",")...),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(time.Duration(cfg.LingerMs) * time.Millisecond),
		kgo.ProducerBatchMaxBytes(batchMax),
		kgo.MaxBufferedBytes(cfg.BufferMemory),
		kgo.MaxBufferedRecords(2_000_000),
		kgo.ProducerBatchCompression(codec),
		kgo.DefaultProduceTopic(j.Topic),
	}
	if !cfg.EnableIdempotence {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(cfg.MaxInFlight))
	}
	return opts, nil
}

func consumerOpts(j job) []kgo.Opt {
	cfg := j.Consume
	return []kgo.Opt{
		kgo.SeedBrokers(strings.Split(j.Bootstrap, ",")...),
		kgo.ConsumeTopics(j.Topic), // no group: every partition, directly
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMinBytes(cfg.FetchMinBytes),
		kgo.FetchMaxWait(time.Duration(cfg.FetchMaxWaitMs) * time.Millisecond),
		kgo.FetchMaxBytes(cfg.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(cfg.MaxPartitionFetchBytes),
	}
}

// payloads is a pool of random upper-case values, the alphabet of ProducerPerformance and of
// benchmarks.settings.payloads, so that lz4 sees data of the same compressibility.
func payloads(size int) [][]byte {
	rnd := rand.New(rand.NewSource(42))
	n := payloadPool
	for n > 16 && n*size > poolBytes {
		n /= 2
	}
	pool := make([][]byte, n)
	for i := range pool {
		v := make([]byte, size)
		for k := range v {
			v[k] = byte('A' + rnd.Intn(26))
		}
		pool[i] = v
	}
	return pool
}

func produce(ctx context.Context, j job) (map[string]any, error) {
	if j.API != "Produce" {
		return nil, fmt.Errorf("unknown franz-go produce API %q", j.API)
	}
	opts, err := producerOpts(j)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	pool := payloads(j.RecordSize)
	// warm-up outside the clock: connection, metadata, producer id
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: pool[0]}).FirstErr(); err != nil {
		return nil, fmt.Errorf("warm-up record not delivered: %w", err)
	}
	var done, failed atomic.Int64
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
		}
		done.Add(1)
	}
	mask := len(pool) - 1
	var keys [][]byte // benchmarks.settings.keys: distinct keys of one length, cycled through
	for i := 0; i < j.Keys; i++ {
		keys = append(keys, []byte(fmt.Sprintf("key-%08d", i)))
	}
	kmask := len(keys) - 1
	var headers []kgo.RecordHeader // benchmarks.settings.headers: the same on every record
	for i := 0; i < j.Headers; i++ {
		headers = append(headers, kgo.RecordHeader{Key: fmt.Sprintf("header-%d", i),
			Value: []byte(fmt.Sprintf("value-%010d", i))})
	}
	t0 := time.Now()
	for i := 0; i < j.Records; i++ {
		rec := &kgo.Record{Value: pool[i&mask], Headers: headers}
		if keys != nil {
			rec.Key = keys[i&kmask]
		}
		cl.Produce(ctx, rec, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return nil, err
	}
	seconds := time.Since(t0).Seconds()
	if n := done.Load(); n != int64(j.Records) {
		return nil, fmt.Errorf("%d promises ran for %d records", n, j.Records)
	}
	return map[string]any{"records": j.Records, "seconds": seconds, "errors": failed.Load()}, nil
}

func consume(ctx context.Context, j job) (map[string]any, error) {
	if j.API != "PollRecords" {
		return nil, fmt.Errorf("unknown franz-go consume API %q", j.API)
	}
	cl, err := kgo.NewClient(consumerOpts(j)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	count, nbytes := 0, 0
	t0 := time.Now()
	for count < j.Records {
		fetches := cl.PollRecords(ctx, j.Consume.MaxRecords)
		if errs := fetches.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("fetch error on partition %d: %w", errs[0].Partition, errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			nbytes += len(r.Value)
			count++
		})
	}
	seconds := time.Since(t0).Seconds()
	return map[string]any{"records": count, "seconds": seconds, "errors": 0, "bytes": nbytes}, nil
}

// peakRSSKiB is this process's high-water mark (VmHWM), as the Python runners report theirs.
func peakRSSKiB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				kb, _ := strconv.Atoi(fields[1])
				return kb
			}
		}
	}
	return 0
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: franzgo '<job json>'")
		os.Exit(2)
	}
	var j job
	if err := json.Unmarshal([]byte(os.Args[1]), &j); err != nil {
		fmt.Fprintln(os.Stderr, "error: bad job:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var result map[string]any
	var err error
	switch j.Scenario {
	case "produce":
		result, err = produce(ctx, j)
	case "consume":
		result, err = consume(ctx, j)
	default:
		err = fmt.Errorf("franz-go has no %s scenario here", j.Scenario)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	result["peak_rss_kb"] = peakRSSKiB()
	line, _ := json.Marshal(result)
	fmt.Println(resultPrefix + string(line))
}
