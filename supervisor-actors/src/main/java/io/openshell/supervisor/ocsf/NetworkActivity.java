package io.openshell.supervisor.ocsf;

/**
 * An OCSF NetworkActivity event (class 4001) as the supervisor emits it: what happened to a session or
 * relay, how bad, and where it was going. Built only by {@link NetworkActivities}.
 */
public record NetworkActivity(Activity activity, Severity severity, Status status, String message,
    String dstHost, int dstPort) {

  public enum Activity {
    OPEN(1), CLOSE(2), FAIL(4);

    public final int id;

    Activity(int id) {
      this.id = id;
    }
  }

  public enum Severity {
    INFORMATIONAL(1), LOW(2);

    public final int id;

    Severity(int id) {
      this.id = id;
    }
  }

  public enum Status {
    SUCCESS(1), FAILURE(2), UNSET(0);

    public final int id;

    Status(int id) {
      this.id = id;
    }
  }

  /** One JSON line (no logging framework needed to test or read it). */
  public String toJson() {
    StringBuilder json = new StringBuilder("{\"class_uid\":4001,\"class_name\":\"Network Activity\"");
    json.append(",\"activity_id\":").append(activity.id).append(",\"activity_name\":\"").append(capitalized(activity.name())).append('"');
    json.append(",\"severity_id\":").append(severity.id).append(",\"severity\":\"").append(capitalized(severity.name())).append('"');
    if (status != Status.UNSET) {
      json.append(",\"status_id\":").append(status.id).append(",\"status\":\"").append(capitalized(status.name())).append('"');
    }
    json.append(",\"message\":\"").append(escape(message)).append('"');
    if (dstHost != null) {
      json.append(",\"dst_endpoint\":{\"hostname\":\"").append(escape(dstHost)).append("\",\"port\":").append(dstPort).append('}');
    }
    return json.append('}').toString();
  }

  private static String capitalized(String name) {
    return name.charAt(0) + name.substring(1).toLowerCase(java.util.Locale.ROOT);
  }

  private static String escape(String value) {
    StringBuilder out = new StringBuilder(value.length());
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    return out.toString();
  }
}
