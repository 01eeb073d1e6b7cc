package io.openshell.supervisor.ocsf;

import io.openshell.supervisor.ocsf.NetworkActivity.Activity;
import io.openshell.supervisor.ocsf.NetworkActivity.Severity;
import io.openshell.supervisor.ocsf.NetworkActivity.Status;
import java.net.URI;

/** The supervisor's OCSF events (upstream wording), as pure functions. */
public final class NetworkActivities {
  private NetworkActivities() {}

  /** Host and port of a gateway URL; port 0 when the URL names none. */
  public record Endpoint(String host, int port) {
    public static Endpoint parse(String url) {
      try {
        URI uri = URI.create(url.trim());
        String host = uri.getHost() == null ? "" : uri.getHost();
        // An IPv6 literal is an address, not "[::1]": OCSF's hostname holds the bare form.
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        return new Endpoint(host, Math.max(uri.getPort(), 0));
      } catch (IllegalArgumentException e) {
        return new Endpoint("", 0);
      }
    }
  }

  public static NetworkActivity sessionEstablished(Endpoint gateway, String sessionId, long heartbeatSecs) {
    return new NetworkActivity(Activity.OPEN, Severity.INFORMATIONAL, Status.SUCCESS,
        "supervisor session established (session_id=" + sessionId + ", heartbeat_secs=" + heartbeatSecs + ")",
        gateway.host(), gateway.port());
  }

  public static NetworkActivity sessionEnded(Endpoint gateway, String sandboxId) {
    return new NetworkActivity(Activity.CLOSE, Severity.INFORMATIONAL, Status.SUCCESS,
        "supervisor session ended cleanly (" + sandboxId + ")", gateway.host(), gateway.port());
  }

  public static NetworkActivity sessionFailed(Endpoint gateway, int attempt, String error) {
    return new NetworkActivity(Activity.FAIL, Severity.LOW, Status.FAILURE,
        "supervisor session failed, reconnecting (attempt " + attempt + "): " + error, gateway.host(), gateway.port());
  }

  public static NetworkActivity relayOpen(String channelId) {
    return new NetworkActivity(Activity.OPEN, Severity.INFORMATIONAL, Status.SUCCESS,
        "relay open (channel_id=" + channelId + ")", null, 0);
  }

  public static NetworkActivity relayClosed(String channelId) {
    return new NetworkActivity(Activity.CLOSE, Severity.INFORMATIONAL, Status.SUCCESS,
        "relay closed (channel_id=" + channelId + ")", null, 0);
  }

  public static NetworkActivity relayFailed(String channelId, String error) {
    return new NetworkActivity(Activity.FAIL, Severity.LOW, Status.FAILURE,
        "relay bridge failed (channel_id=" + channelId + "): " + error, null, 0);
  }

  public static NetworkActivity relayClosedByGateway(String channelId, String reason) {
    return new NetworkActivity(Activity.CLOSE, Severity.INFORMATIONAL, Status.UNSET,
        "relay close from gateway (channel_id=" + channelId + ", reason=" + reason + ")", null, 0);
  }
}
