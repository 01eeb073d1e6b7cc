package io.openshell.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * One row of the benchmark summary: what was measured, its goal, the figure, the same-run baseline and
 * whether the goal was met, with the machine's load average when the figure was taken (the machine is
 * shared, so a figure means little without it). Every benchmark writes its rows to
 * {@code target/benchmarks/results/<key>.tsv}; {@link BenchmarkSummary} joins them, ordered by key.
 */
record BenchmarkRow(String key, String measure, String goal, String figure, String baseline, Verdict verdict, String load, String date) {
  static final Path RESULTS = Path.of("target", "benchmarks", "results");

  enum Verdict {
    MET("met"), MISSED("**missed**"), NO_GOAL("");

    final String text;

    Verdict(String text) {
      this.text = text;
    }

    static Verdict of(boolean met) {
      return met ? MET : MISSED;
    }
  }

  /** A row taken now: today's date and the current 1/5/15-minute load averages. */
  static BenchmarkRow now(String key, String measure, String goal, String figure, String baseline, Verdict verdict) {
    return new BenchmarkRow(key, measure, goal, figure, baseline, verdict, loadAverage(), LocalDate.now(ZoneOffset.UTC).toString());
  }

  /** Writes the row where the summary looks for it, replacing an older row of the same key, and prints it. */
  static void record(String key, String measure, String goal, String figure, String baseline, Verdict verdict) {
    BenchmarkRow row = now(key, measure, goal, figure, baseline, verdict);
    try {
      Files.createDirectories(RESULTS);
      Files.writeString(RESULTS.resolve(key + ".tsv"), row.toTsv() + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the benchmark row " + key + ": " + e.getMessage(), e);
    }
    System.out.println("BENCH " + row.toMarkdown());
  }

  String toTsv() {
    return String.join("\t", List.of(key, measure, goal, figure, baseline, verdict.name(), load, date).stream().map(BenchmarkRow::clean).toList());
  }

  static BenchmarkRow fromTsv(String line) {
    String[] f = line.split("\t", -1);
    if (f.length != 8) throw new IllegalArgumentException("a benchmark row has 8 tab-separated fields, not " + f.length + ": " + line);
    return new BenchmarkRow(f[0], f[1], f[2], f[3], f[4], Verdict.valueOf(f[5]), f[6], f[7]);
  }

  String toMarkdown() {
    List<String> cells = new ArrayList<>(List.of(measure, goal, figure, baseline, verdict.text, load + " (" + date + ")"));
    return "| " + String.join(" | ", cells.stream().map(cell -> cell.replace("|", "\\|")).toList()) + " |";
  }

  /** Tabs and line breaks would break the one-line, tab-separated file. */
  private static String clean(String field) {
    return field.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
  }

  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return parts[0] + " / " + parts[1] + " / " + parts[2];
    } catch (IOException e) {
      return "unknown";
    }
  }
}
