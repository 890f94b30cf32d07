import org.apache.kafka.server.telemetry.ClientTelemetryExporter;
import org.apache.kafka.server.telemetry.ClientTelemetryExporterProvider;

/** The sink through ClientTelemetryExporterProvider, the interface that succeeds ClientTelemetry. */
public class TelemetryExporterSink extends TelemetrySink implements ClientTelemetryExporterProvider {
    @Override
    public ClientTelemetryExporter clientTelemetryExporter() {
        return (context, payload) -> append(context.authorizableRequestContext().clientId(), payload);
    }
}
