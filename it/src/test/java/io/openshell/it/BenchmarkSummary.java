package io.openshell.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Joins the rows every benchmark wrote ({@link BenchmarkRow}) into one table,
 * {@code it/target/benchmarks/summary.md}, and optionally puts that table into docs/benchmarks.md between
 * {@value #BEGIN} and {@value #END}. Run by {@code bench/run} after the benchmarks:
 * {@code java -cp it/target/test-classes io.openshell.it.BenchmarkSummary it/target/benchmarks [docs/benchmarks.md]}.
 */
final class BenchmarkSummary {
  static final String BEGIN = "<!-- benchmark-summary:begin (bench/run --update-docs rewrites this block) -->";
  static final String END = "<!-- benchmark-summary:end -->";
  static final String HEADER = "| measure | goal | figure | baseline (same run) | met? | load average 1/5/15 min (date) |\n"
      + "| --- | --- | --- | --- | --- | --- |\n";

  private BenchmarkSummary() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: BenchmarkSummary <benchmarks dir, e.g. it/target/benchmarks> [docs/benchmarks.md to update]");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    List<BenchmarkRow> rows = read(dir.resolve("results"));
    if (rows.isEmpty()) {
      System.err.println("no benchmark rows under " + dir.resolve("results") + ": did the benchmarks run (bench/run)?");
      System.exit(1);
    }
    String table = table(rows);
    Files.writeString(dir.resolve("summary.md"), table, StandardCharsets.UTF_8);
    System.out.print(table);
    if (args.length == 2) {
      Path docs = Path.of(args[1]);
      Files.writeString(docs, replaceBlock(Files.readString(docs, StandardCharsets.UTF_8), table), StandardCharsets.UTF_8);
      System.out.println("updated the summary table in " + docs);
    }
  }

  static List<BenchmarkRow> read(Path results) throws IOException {
    if (!Files.isDirectory(results)) return List.of();
    List<BenchmarkRow> rows = new ArrayList<>();
    try (Stream<Path> files = Files.list(results)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".tsv")).sorted().toList()) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (!line.isBlank()) rows.add(BenchmarkRow.fromTsv(line));
        }
      }
    }
    rows.sort(Comparator.comparing(BenchmarkRow::key));
    return rows;
  }

  static String table(List<BenchmarkRow> rows) {
    StringBuilder table = new StringBuilder(HEADER);
    for (BenchmarkRow row : rows) table.append(row.toMarkdown()).append('\n');
    return table.toString();
  }

  /** The document with the block between the markers replaced by {@code table}; the markers stay. */
  static String replaceBlock(String document, String table) {
    int begin = document.indexOf(BEGIN);
    int end = document.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException("the document has no summary block: add a line '" + BEGIN + "' and a line '" + END + "' where the table goes");
    }
    return document.substring(0, begin + BEGIN.length()) + "\n" + table + document.substring(end);
  }
}
