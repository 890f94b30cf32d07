import java.io.FileWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.server.telemetry.ClientTelemetryPayload;

/**
 * A broker metrics reporter that appends every client telemetry push it is given to the file named
 * by the system property kafkaio.telemetry.sink, one line per push:
 * client id, client instance id (as a UUID string), terminating, content type, payload bytes in base64 (tab-separated).
 * The version-specific subclasses hook it to the broker's receiver interface.
 */
public class TelemetrySink implements MetricsReporter {
    private static final String FILE = System.getProperty("kafkaio.telemetry.sink");

    protected static synchronized void append(String clientId, ClientTelemetryPayload payload) {
        ByteBuffer data = payload.data().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        UUID instance = new UUID(payload.clientInstanceId().getMostSignificantBits(),
            payload.clientInstanceId().getLeastSignificantBits());
        String line = String.join("\t", clientId, instance.toString(),
            Boolean.toString(payload.isTerminating()), payload.contentType(),
            Base64.getEncoder().encodeToString(bytes));
        try (FileWriter out = new FileWriter(FILE, true)) {
            out.write(line + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public void init(List<KafkaMetric> metrics) { }
    @Override public void metricChange(KafkaMetric metric) { }
    @Override public void metricRemoval(KafkaMetric metric) { }
    @Override public void close() { }
    @Override public void configure(Map<String, ?> configs) { }
}
