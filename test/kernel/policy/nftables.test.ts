// NetworkPolicy cases with kube-proxy in nftables mode: ./cases.ts.
import { policyCases } from './cases.js';

policyCases('nftables');
