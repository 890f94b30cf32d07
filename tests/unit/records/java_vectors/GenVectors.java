// Writes record batches exactly as the Java client builds them, and Utils.murmur2 values, for the
// golden tests next to this file. Regenerate with (kafka-clients and its compression libraries on the
// classpath, e.g. a Kafka distribution's libs/):
//   javac -cp 'libs/*' -d /tmp GenVectors.java && java -cp "/tmp:libs/*" GenVectors .
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Utils;

public class GenVectors {
    static final long TS = 1700000000000L;

    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    static SimpleRecord[] records() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) all[i] = (byte) i;
        byte[] big = new byte[3000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) ('a' + i % 7);
        return new SimpleRecord[] {
            new SimpleRecord(TS, b("k0"), b("v0")),
            new SimpleRecord(TS + 5, null, b("value-1"),
                new Header[] {new RecordHeader("h1", b("x")), new RecordHeader("h2", (byte[]) null)}),
            new SimpleRecord(TS - 10, b("k2"), null, new Header[] {new RecordHeader("\u00fcn\u00ef", all)}),
            new SimpleRecord(TS + 1, b("k3"), big),
            new SimpleRecord(TS + 2, new byte[0], new byte[0]),
        };
    }

    static void write(Path dir, String name, MemoryRecords r) throws Exception {
        ByteBuffer buf = r.buffer();
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        Files.write(dir.resolve(name), out);
    }

    static MemoryRecords build(byte magic, CompressionType type, TimestampType tsType, long pid, short epoch,
                               int seq, boolean txn, long baseOffset) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1 << 16), magic,
            Compression.of(type).build(), tsType, baseOffset, 1234567L, pid, epoch, seq, txn,
            RecordBatch.NO_PARTITION_LEADER_EPOCH);
        for (SimpleRecord r : records()) {
            if (magic < 2 && r.headers().length > 0) r = new SimpleRecord(r.timestamp(), r.key(), r.value());
            builder.append(r);
        }
        return builder.build();
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        for (CompressionType t : CompressionType.values()) {
            write(dir, "v2-" + t.name + ".bin", build((byte) 2, t, TimestampType.CREATE_TIME, -1, (short) -1, -1, false, 0));
            if (t == CompressionType.ZSTD) continue;  // magic 0/1 never had zstd
            write(dir, "v1-" + t.name + ".bin", build((byte) 1, t, TimestampType.CREATE_TIME, -1, (short) -1, -1, false, 100));
            write(dir, "v0-" + t.name + ".bin", build((byte) 0, t, TimestampType.CREATE_TIME, -1, (short) -1, -1, false, 100));
        }
        write(dir, "v2-logappend-lz4.bin", build((byte) 2, CompressionType.LZ4, TimestampType.LOG_APPEND_TIME, -1, (short) -1, -1, false, 0));
        write(dir, "v1-logappend-gzip.bin", build((byte) 1, CompressionType.GZIP, TimestampType.LOG_APPEND_TIME, -1, (short) -1, -1, false, 100));
        write(dir, "v2-txn-zstd.bin", build((byte) 2, CompressionType.ZSTD, TimestampType.CREATE_TIME, 1234L, (short) 5, 42, true, 77));
        write(dir, "v2-control-commit.bin", MemoryRecords.withEndTransactionMarker(81L, TS, 7, 1234L, (short) 5,
            new EndTransactionMarker(ControlRecordType.COMMIT, 9)));
        write(dir, "v2-control-abort.bin", MemoryRecords.withEndTransactionMarker(82L, TS, 7, 1234L, (short) 5,
            new EndTransactionMarker(ControlRecordType.ABORT, 9)));

        StringBuilder sb = new StringBuilder();
        byte[][] inputs = {
            new byte[0], {0}, {(byte) 0xff}, {1, (byte) 0x80}, {(byte) 0x80, (byte) 0x81, (byte) 0xfe},
            {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}, {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, (byte) 0x99},
            b("kafka"), b("key-000042"), b("\u00e9t\u00e9 \u2603 \ud83d\ude00"),
        };
        for (byte[] in : inputs) {
            StringBuilder hex = new StringBuilder();
            for (byte x : in) hex.append(String.format("%02x", x));
            sb.append(hex.length() == 0 ? "-" : hex).append(' ').append(Utils.murmur2(in)).append('\n');
        }
        Files.writeString(dir.resolve("murmur2.txt"), sb.toString());
    }
}
