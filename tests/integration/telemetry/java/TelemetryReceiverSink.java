import org.apache.kafka.server.telemetry.ClientTelemetry;
import org.apache.kafka.server.telemetry.ClientTelemetryReceiver;

/** The sink through ClientTelemetry, the receiver interface of Kafka 3.7 to 4.1. */
public class TelemetryReceiverSink extends TelemetrySink implements ClientTelemetry {
    @Override
    public ClientTelemetryReceiver clientReceiver() {
        return (context, payload) -> append(context.clientId(), payload);
    }
}
