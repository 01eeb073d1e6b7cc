package io.openshell.vm.driver;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The gateway endpoint as a guest must dial it. A guest cannot reach the host's loopback by that
 * name (its own loopback is itself), so loopback hosts become the host alias the guest init writes
 * into {@code /etc/hosts}; an unspecified address (0.0.0.0, ::) names no host at all and is refused.
 */
public final class GuestEndpoint {
  private GuestEndpoint() {}

  public static String forGuest(String endpoint, String hostAlias) {
    URI uri;
    try {
      uri = new URI(endpoint);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("gateway endpoint '" + endpoint + "' is not a URL: " + e.getMessage());
    }
    String host = uri.getHost();
    if (host == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("gateway endpoint '" + endpoint + "' needs a host and a port, e.g. http://127.0.0.1:8080");
    }
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (isUnspecified(bare)) {
      throw new IllegalArgumentException("gateway endpoint '" + endpoint + "' is not reachable from sandbox VMs: "
          + "set --grpc-endpoint to an address the host answers on (e.g. http://127.0.0.1:<port>)");
    }
    if (!isLoopback(bare)) return endpoint;
    try {
      return new URI(uri.getScheme(), uri.getUserInfo(), hostAlias, uri.getPort(), uri.getPath(), uri.getQuery(),
          uri.getFragment()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("cannot rewrite gateway endpoint '" + endpoint + "': " + e.getMessage());
    }
  }

  static boolean isUnspecified(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
  }

  static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost") || h.endsWith(".localhost")) return true;
    if (h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")) return true;
    if (h.matches("127(\\.\\d{1,3}){3}")) return true;
    return h.matches("(::ffff:|0:0:0:0:0:ffff:)127(\\.\\d{1,3}){3}");
  }
}
