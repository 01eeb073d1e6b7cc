package io.openshell.supervisor;

import java.net.URI;
import java.net.URISyntaxException;

/** The gateway URL a supervisor dials: {@code http://host[:port]} (https once TLS lands). */
public record GatewayEndpoint(String scheme, String host, int port) {

  /** Parses a gateway URL; a missing port means the scheme's default (80 / 443). */
  public static GatewayEndpoint parse(String url) {
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("invalid gateway endpoint '" + url + "': " + e.getMessage());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "invalid gateway endpoint '" + url + "': expected http://host:port or https://host:port");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("invalid gateway endpoint '" + url + "': no host");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() != -1 ? uri.getPort() : (scheme.equals("https") ? 443 : 80);
    return new GatewayEndpoint(scheme, host, port);
  }

  /**
   * A comma-separated list ({@code OPENSHELL_ENDPOINT} of a clustered gateway): the supervisor dials
   * the first and fails over to the next on loss.
   */
  public static java.util.List<GatewayEndpoint> parseList(String urls) {
    java.util.List<GatewayEndpoint> endpoints = new java.util.ArrayList<>();
    for (String url : (urls == null ? "" : urls).split(",")) {
      if (!url.isBlank()) endpoints.add(parse(url));
    }
    if (endpoints.isEmpty()) throw new IllegalArgumentException("invalid gateway endpoint '" + urls + "': no URL");
    return java.util.List.copyOf(endpoints);
  }

  public boolean tls() {
    return scheme.equals("https");
  }

  @Override
  public String toString() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return scheme + "://" + h + ":" + port;
  }
}
