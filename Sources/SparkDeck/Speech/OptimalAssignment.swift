/// The one-to-one pairing of rows with columns that maximises the summed weight (the Hungarian method, exact).
/// Rectangular matrices are fine: the larger side keeps some members unpaired.
public enum OptimalAssignment {
    /// For each row, the column it is paired with, or nil. `weights[row][column]`; all rows the same length.
    public static func maximize(_ weights: [[Double]]) -> [Int?] {
        let rows = weights.count
        guard rows > 0, let columns = weights.first?.count, columns > 0 else { return Array(repeating: nil, count: rows) }
        if rows > columns {
            let transposed = (0..<columns).map { column in (0..<rows).map { weights[$0][column] } }
            let byColumn = maximize(transposed)
            var result = [Int?](repeating: nil, count: rows)
            for (column, row) in byColumn.enumerated() { if let row { result[row] = column } }
            return result
        }
        let largest = weights.joined().max() ?? 0
        let cost = weights.map { $0.map { largest - $0 } }
        return minimizeCost(cost, rows: rows, columns: columns)
    }

    // Potentials method for rows <= columns, 1-based as in the textbook form of the algorithm.
    private static func minimizeCost(_ cost: [[Double]], rows n: Int, columns m: Int) -> [Int?] {
        var u = [Double](repeating: 0, count: n + 1)
        var v = [Double](repeating: 0, count: m + 1)
        var owner = [Int](repeating: 0, count: m + 1)
        var way = [Int](repeating: 0, count: m + 1)
        for row in 1...n {
            owner[0] = row
            var column0 = 0
            var minimum = [Double](repeating: .infinity, count: m + 1)
            var used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[column0] = true
                let row0 = owner[column0]
                var delta = Double.infinity
                var column1 = 0
                for column in 1...m where !used[column] {
                    let reduced = cost[row0 - 1][column - 1] - u[row0] - v[column]
                    if reduced < minimum[column] {
                        minimum[column] = reduced
                        way[column] = column0
                    }
                    if minimum[column] < delta {
                        delta = minimum[column]
                        column1 = column
                    }
                }
                for column in 0...m {
                    if used[column] {
                        u[owner[column]] += delta
                        v[column] -= delta
                    } else {
                        minimum[column] -= delta
                    }
                }
                column0 = column1
            } while owner[column0] != 0
            repeat {
                let column1 = way[column0]
                owner[column0] = owner[column1]
                column0 = column1
            } while column0 != 0
        }
        var result = [Int?](repeating: nil, count: n)
        for column in 1...m where owner[column] != 0 { result[owner[column] - 1] = column - 1 }
        return result
    }
}
