package io.openshell.supervisor.session;

import com.typesafe.config.Config;
import java.time.Duration;

/** Timing and sizing of the gateway session, from {@code openshell.supervisor.session}. */
public record SessionSettings(
    Duration heartbeatFloor,
    int deadGatewayFactor,
    Duration connectTimeout,
    Duration keepaliveTime,
    Duration keepaliveTimeout,
    int outboundQueueSize,
    Duration reconnectInitial,
    Duration reconnectMax,
    double reconnectJitter) {

  public SessionSettings {
    if (deadGatewayFactor < 1) {
      throw new IllegalArgumentException("dead-gateway-factor must be >= 1");
    }
    if (outboundQueueSize < 1) {
      throw new IllegalArgumentException("outbound-queue-size must be >= 1");
    }
    if (reconnectJitter < 0 || reconnectJitter >= 1) {
      throw new IllegalArgumentException("reconnect.jitter must be in [0, 1)");
    }
    if (reconnectInitial.isNegative() || reconnectInitial.isZero()
        || reconnectMax.compareTo(reconnectInitial) < 0) {
      throw new IllegalArgumentException("reconnect needs 0 < initial <= max");
    }
  }

  public static SessionSettings fromConfig(Config session) {
    return new SessionSettings(
        session.getDuration("heartbeat-floor"),
        session.getInt("dead-gateway-factor"),
        session.getDuration("connect-timeout"),
        session.getDuration("keepalive-time"),
        session.getDuration("keepalive-timeout"),
        session.getInt("outbound-queue-size"),
        session.getDuration("reconnect.initial"),
        session.getDuration("reconnect.max"),
        session.getDouble("reconnect.jitter"));
  }

  /** Heartbeat period for a session: max(the gateway's interval, the floor). */
  public Duration heartbeatPeriod(int acceptedIntervalSecs) {
    Duration accepted = Duration.ofSeconds(Math.max(0, acceptedIntervalSecs));
    return accepted.compareTo(heartbeatFloor) > 0 ? accepted : heartbeatFloor;
  }

  public ReconnectBackoff initialBackoff() {
    return ReconnectBackoff.start(reconnectInitial, reconnectMax, reconnectJitter);
  }
}
