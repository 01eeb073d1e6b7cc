package io.openshell.gateway.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The gateway's own CA for a local start without TLS flags: created on first start in
 * {@code <state-dir>/tls}, reused on later starts. It signs one server certificate for the names a
 * local client or a sandbox dials, and one client certificate for the CLI, marked as a user
 * certificate ({@link UserAuthorization#USER_UNIT}). Leaf certificates are issued again when they
 * expire soon or when the server certificate lacks a name this start needs; the CA stays, so clients
 * keep trusting the gateway.
 */
public final class LocalCertificateAuthority {
  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";
  public static final String SERVER_CERT = "server.crt";
  public static final String SERVER_KEY = "server.key";
  public static final String CLIENT_CERT = "client.crt";
  public static final String CLIENT_KEY = "client.key";

  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration LEAF_VALIDITY = Duration.ofDays(365);
  /** A leaf this close to its end is issued again at start. */
  static final Duration RENEW_BEFORE = Duration.ofDays(30);

  /** Names every local server certificate carries: loopback, and the VM guests' alias and address for the host. */
  static final List<String> LOCAL_NAMES = List.of("localhost", "127.0.0.1", "::1", "host.openshell.internal", "10.0.2.2");

  /** The files of a local CA: what the gateway serves with and what the CLI and sandboxes read. */
  public record Material(Path dir) {
    public Path caCert() { return dir.resolve(CA_CERT); }
    public Path serverCert() { return dir.resolve(SERVER_CERT); }
    public Path serverKey() { return dir.resolve(SERVER_KEY); }
    public Path clientCert() { return dir.resolve(CLIENT_CERT); }
    public Path clientKey() { return dir.resolve(CLIENT_KEY); }
  }

  private final Path dir;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public LocalCertificateAuthority(Path dir, Clock clock) {
    this.dir = dir;
    this.clock = clock;
  }

  /** Creates what is missing (or due) and returns the material; {@code extraNames} are DNS names or IP literals. */
  public Material ensure(Collection<String> extraNames) {
    Set<String> names = new LinkedHashSet<>(LOCAL_NAMES);
    String hostName = localHostName();
    if (hostName != null) names.add(hostName);
    names.addAll(extraNames);
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      Material material = new Material(dir);
      boolean newCa = !Files.isRegularFile(material.caCert()) || !Files.isRegularFile(dir.resolve(CA_KEY))
          || dueForRenewal(PemFiles.readCertificates(material.caCert()).get(0));
      if (newCa) writeCa();
      X509Certificate ca = PemFiles.readCertificates(material.caCert()).get(0);
      PrivateKey caKey = PemFiles.readPrivateKey(dir.resolve(CA_KEY));
      if (newCa || leafDue(material.serverCert(), material.serverKey(), ca) || !covers(material.serverCert(), names)) {
        writeLeaf(ca, caKey, "openshell-gateway", null, List.copyOf(names), KeyPurposeId.id_kp_serverAuth,
            material.serverCert(), material.serverKey());
      }
      if (newCa || leafDue(material.clientCert(), material.clientKey(), ca)) {
        writeLeaf(ca, caKey, "openshell-cli", UserAuthorization.USER_UNIT, List.of(), KeyPurposeId.id_kp_clientAuth,
            material.clientCert(), material.clientKey());
      }
      return material;
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot create the gateway's local CA in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Issues a client certificate with this CA into {@code cert}/{@code key} (organizational unit {@code unit}, may be null). */
  public void issueClient(String commonName, String unit, Path cert, Path key) {
    try {
      writeLeaf(PemFiles.readCertificates(dir.resolve(CA_CERT)).get(0), PemFiles.readPrivateKey(dir.resolve(CA_KEY)),
          commonName, unit, List.of(), KeyPurposeId.id_kp_clientAuth, cert, key);
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot issue a client certificate: " + e.getMessage(), e);
    }
  }

  private void writeCa() throws GeneralSecurityException, OperatorCreationException, IOException {
    KeyPair pair = newKeyPair();
    X500Name subject = new X500Name("CN=OpenShell local gateway CA,O=OpenShell");
    Instant now = clock.instant();
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic());
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()));
    X509Certificate ca = sign(builder, pair.getPrivate());
    PemFiles.writePrivateKey(dir.resolve(CA_KEY), pair.getPrivate());
    PemFiles.writeCertificates(dir.resolve(CA_CERT), List.of(ca));
  }

  private void writeLeaf(X509Certificate ca, PrivateKey caKey, String commonName, String unit, List<String> names,
      KeyPurposeId purpose, Path certFile, Path keyFile) throws GeneralSecurityException, OperatorCreationException, IOException {
    KeyPair pair = newKeyPair();
    String subject = "CN=" + commonName + (unit == null ? "" : ",OU=" + unit) + ",O=OpenShell";
    Instant now = clock.instant();
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(LEAF_VALIDITY)), new X500Name(subject), pair.getPublic());
    JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
    builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(ca));
    if (!names.isEmpty()) {
      List<GeneralName> alternatives = new ArrayList<>();
      for (String name : names) alternatives.add(generalName(name));
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(alternatives.toArray(GeneralName[]::new)));
    }
    X509Certificate leaf = sign(builder, caKey);
    PemFiles.writePrivateKey(keyFile, pair.getPrivate());
    PemFiles.writeCertificates(certFile, List.of(leaf, ca));
  }

  private boolean leafDue(Path cert, Path key, X509Certificate ca) {
    if (!Files.isRegularFile(cert) || !Files.isRegularFile(key)) return true;
    X509Certificate leaf = PemFiles.readCertificates(cert).get(0);
    if (!leaf.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) return true;
    try {
      leaf.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      return true;
    }
    return dueForRenewal(leaf);
  }

  private boolean dueForRenewal(X509Certificate certificate) {
    return certificate.getNotAfter().toInstant().isBefore(clock.instant().plus(RENEW_BEFORE));
  }

  private static boolean covers(Path cert, Set<String> names) {
    if (!Files.isRegularFile(cert)) return false;
    try {
      Collection<List<?>> alternatives = PemFiles.readCertificates(cert).get(0).getSubjectAlternativeNames();
      if (alternatives == null) return false;
      Set<String> present = new LinkedHashSet<>();
      for (List<?> entry : alternatives) present.add(normalize(String.valueOf(entry.get(1))));
      return names.stream().map(LocalCertificateAuthority::normalize).allMatch(present::contains);
    } catch (CertificateParsingException e) {
      return false;
    }
  }

  /** IP literals compared in one spelling ({@code ::1} and {@code 0:0:0:0:0:0:0:1} are the same address). */
  private static String normalize(String name) {
    if (isIpLiteral(name)) {
      try {
        return InetAddress.getByName(name).getHostAddress();
      } catch (java.net.UnknownHostException e) {
        return name;
      }
    }
    return name.toLowerCase(java.util.Locale.ROOT);
  }

  private static GeneralName generalName(String name) {
    return isIpLiteral(name) ? new GeneralName(GeneralName.iPAddress, name) : new GeneralName(GeneralName.dNSName, name);
  }

  static boolean isIpLiteral(String name) {
    return name.contains(":") || name.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  private static String localHostName() {
    try {
      String name = Files.readString(Path.of("/etc/hostname")).trim();
      return name.isEmpty() || !name.matches("[A-Za-z0-9.-]+") ? null : name;
    } catch (IOException e) {
      return null;
    }
  }

  private KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), random);
    return generator.generateKeyPair();
  }

  private BigInteger serial() {
    return new BigInteger(127, random).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }
}
