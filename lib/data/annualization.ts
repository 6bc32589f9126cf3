/**
 * Trading days per year: the one factor that annualises every daily figure of the product — volatility
 * (× √252), Sharpe ratios (× √252), mean returns (× 252) and the volatility target of the scaled labels.
 */
export const ANNUALIZATION = 252;

export const SQRT_252 = Math.sqrt(ANNUALIZATION);
