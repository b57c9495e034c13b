import Foundation
import Hummingbird

/// A stand-in for `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` on a GB10 board: memory reads
/// `[N/A]` (unified memory), utilisation, temperature and power follow whether a simulated service is running.
public enum SimNvidiaSMI {
    public static func line(busy: Bool, at time: Date = Date()) -> String {
        let phase = time.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) / 60 * 2 * Double.pi
        if busy {
            let utilization = Int(55 + 30 * sin(phase))
            return "\(utilization), [N/A], [N/A], \(62 + Int(6 * sin(phase))), \(String(format: "%.2f", 48 + 20 * sin(phase)))"
        }
        return "0, [N/A], [N/A], 41, 11.80"
    }

    /// Whether the process named in `pidFile` is alive.
    public static func isAlive(pidFile: String?) -> Bool {
        guard let pidFile, let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return false }
        return kill(pid, 0) == 0
    }
}
