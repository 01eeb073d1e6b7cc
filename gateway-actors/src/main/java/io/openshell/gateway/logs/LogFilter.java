package io.openshell.gateway.logs;

import io.openshell.protocol.v1.SandboxLogLine;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Which lines a reader wants: sources ({@code gateway}, {@code sandbox}; none or {@code all} = both),
 * a minimum level and a start time. Built from request fields by {@link #parse}, which names what is wrong.
 */
public record LogFilter(Set<String> sources, int minLevelRank, long sinceMs) {

  public static final String GATEWAY = "gateway";
  public static final String SANDBOX = "sandbox";
  public static final LogFilter ALL = new LogFilter(Set.of(), 0, 0);

  /** Either a filter or the message for an INVALID_ARGUMENT. */
  public sealed interface Parsed {}

  public record Valid(LogFilter filter) implements Parsed {}

  public record Invalid(String message) implements Parsed {}

  public static Parsed parse(List<String> sources, String minLevel, long sinceMs) {
    java.util.HashSet<String> wanted = new java.util.HashSet<>();
    for (String source : sources) {
      String s = source.trim().toLowerCase(Locale.ROOT);
      if (s.equals("all") || s.isEmpty()) continue;
      if (!s.equals(GATEWAY) && !s.equals(SANDBOX)) {
        return new Invalid("unknown log source '" + source + "': use gateway, sandbox or all");
      }
      wanted.add(s);
    }
    if (wanted.size() == 2) wanted.clear();
    int rank = 0;
    if (!minLevel.isBlank()) {
      Optional<Integer> known = rank(minLevel);
      if (known.isEmpty()) return new Invalid("unknown log level '" + minLevel + "': use trace, debug, info, warn or error");
      rank = known.get();
    }
    if (sinceMs < 0) return new Invalid("since_ms must not be negative");
    return new Valid(new LogFilter(Set.copyOf(wanted), rank, sinceMs));
  }

  public boolean matches(SandboxLogLine line) {
    if (!sources.isEmpty() && !sources.contains(line.getSource())) return false;
    if (line.getTimestampMs() < sinceMs) return false;
    return rank(line.getLevel()).orElse(INFO) >= minLevelRank;
  }

  private static final int INFO = 2;

  /** TRACE < DEBUG < INFO < WARN < ERROR; upstream shows OCSF lines with level "OCSF": they rank as INFO. */
  static Optional<Integer> rank(String level) {
    return switch (level.trim().toUpperCase(Locale.ROOT)) {
      case "TRACE" -> Optional.of(0);
      case "DEBUG" -> Optional.of(1);
      case "INFO", "OCSF" -> Optional.of(INFO);
      case "WARN", "WARNING" -> Optional.of(3);
      case "ERROR" -> Optional.of(4);
      default -> Optional.empty();
    };
  }
}
