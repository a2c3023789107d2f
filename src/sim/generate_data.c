/* Word lists and the PRNG of the sample-base generator (see generate_internal.h). */
#include "sim/generate_internal.h"

#include <string.h>

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

size_t rng_index(struct rng *r, size_t n)
{
	return n ? (size_t)(rng_next(r) % n) : 0;
}

int rng_int(struct rng *r, int lo, int hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

int rng_chance(struct rng *r, int pct)
{
	return (int)(rng_next(r) % 100) < pct;
}

/* ---- regions, names, places ---- */

static const char *const we_first[] = { "Lucas", "Emma", "Mathilde", "João", "Inês", "Sophie",
					"Lukas", "Hanna", "Pablo", "Lucía", "Matteo", "Giulia",
					"Thomas", "Chloé", "Jonas", "Marta", "Sebastian", "Elena" };
static const char *const we_last[] = { "Silva", "Moreau", "Müller", "Schmidt", "García",
				       "Rossi", "Dubois", "Fernandes", "Janssen", "Bianchi",
				       "Martín", "Weber", "Costa", "Lefèvre", "O'Brien", "Vermeulen" };
static const struct place we_places[] = {
	{ "Lisbon", "Portugal", "Europe/Lisbon" },	 { "Porto", "Portugal", "Europe/Lisbon" },
	{ "Berlin", "Germany", "Europe/Berlin" },	 { "Munich", "Germany", "Europe/Berlin" },
	{ "Paris", "France", "Europe/Paris" },		 { "Madrid", "Spain", "Europe/Madrid" },
	{ "Barcelona", "Spain", "Europe/Madrid" },	 { "Amsterdam", "Netherlands", "Europe/Amsterdam" },
	{ "Milan", "Italy", "Europe/Rome" },		 { "Zurich", "Switzerland", "Europe/Zurich" },
	{ "London", "United Kingdom", "Europe/London" }, { "Dublin", "Ireland", "Europe/Dublin" },
};

static const char *const ee_first[] = { "Oleksandr", "Anastasia", "Dmytro", "Kateryna", "Piotr",
					"Agnieszka", "Andrei", "Ioana", "Nikola", "Milica",
					"Tomas", "Jana", "Mihai", "Daria", "Bogdan", "Zofia" };
static const char *const ee_last[] = { "Kovalenko", "Shevchenko", "Nowak", "Kowalski",
				       "Popescu", "Ionescu", "Petrovic", "Horvat", "Novak",
				       "Jankovic", "Bondarenko", "Wisniewski", "Dumitru", "Tkachenko" };
static const struct place ee_places[] = {
	{ "Kyiv", "Ukraine", "Europe/Kyiv" },		{ "Lviv", "Ukraine", "Europe/Kyiv" },
	{ "Warsaw", "Poland", "Europe/Warsaw" },	{ "Krakow", "Poland", "Europe/Warsaw" },
	{ "Bucharest", "Romania", "Europe/Bucharest" }, { "Belgrade", "Serbia", "Europe/Belgrade" },
	{ "Prague", "Czechia", "Europe/Prague" },	{ "Tallinn", "Estonia", "Europe/Tallinn" },
	{ "Sofia", "Bulgaria", "Europe/Sofia" },
};

static const char *const la_first[] = { "Mateo", "Valentina", "Santiago", "Camila", "Diego",
					"Isabela", "Gabriel", "Mariana", "Felipe", "Luciana",
					"Rafael", "Ximena", "Joaquín", "Renata" };
static const char *const la_last[] = { "González", "Rodríguez", "Pereira", "Oliveira", "Santos",
				       "Fernández", "López", "Ramírez", "Souza", "Herrera",
				       "Castillo", "Mendoza", "Araújo", "Vargas" };
static const struct place la_places[] = {
	{ "São Paulo", "Brazil", "America/Sao_Paulo" },
	{ "Rio de Janeiro", "Brazil", "America/Sao_Paulo" },
	{ "Buenos Aires", "Argentina", "America/Argentina/Buenos_Aires" },
	{ "Mexico City", "Mexico", "America/Mexico_City" },
	{ "Bogotá", "Colombia", "America/Bogota" },
	{ "Medellín", "Colombia", "America/Bogota" },
	{ "Santiago", "Chile", "America/Santiago" },
	{ "Lima", "Peru", "America/Lima" },
	{ "Montevideo", "Uruguay", "America/Montevideo" },
};

static const char *const na_first[] = { "Ethan", "Olivia", "Noah", "Ava", "Liam", "Madison",
					"Jackson", "Chloe", "Tyler", "Grace", "Marcus", "Jasmine",
					"Caleb", "Hannah" };
static const char *const na_last[] = { "Johnson", "Williams", "Brown", "Miller", "Davis",
				       "Anderson", "Thompson", "Walker", "Nguyen", "Patel", "Kim",
				       "Robinson", "Carter", "Brooks" };
static const struct place na_places[] = {
	{ "New York", "United States", "America/New_York" },
	{ "San Francisco", "United States", "America/Los_Angeles" },
	{ "Austin", "United States", "America/Chicago" },
	{ "Denver", "United States", "America/Denver" },
	{ "Miami", "United States", "America/New_York" },
	{ "Chicago", "United States", "America/Chicago" },
	{ "Toronto", "Canada", "America/Toronto" },
	{ "Vancouver", "Canada", "America/Vancouver" },
};

static const char *const sa_first[] = { "Arjun", "Priya", "Rohan", "Ananya", "Vikram", "Sneha",
					"Aditya", "Kavya", "Rahul", "Meera", "Imran", "Ayesha",
					"Farhan", "Nadia" };
static const char *const sa_last[] = { "Sharma", "Patel", "Gupta", "Iyer", "Reddy", "Nair",
				       "Singh", "Khan", "Mehta", "Rao", "Chowdhury", "Bose",
				       "Qureshi", "Rahman" };
static const struct place sa_places[] = {
	{ "Bangalore", "India", "Asia/Kolkata" },  { "Pune", "India", "Asia/Kolkata" },
	{ "Hyderabad", "India", "Asia/Kolkata" },  { "Mumbai", "India", "Asia/Kolkata" },
	{ "New Delhi", "India", "Asia/Kolkata" },  { "Karachi", "Pakistan", "Asia/Karachi" },
	{ "Lahore", "Pakistan", "Asia/Karachi" },  { "Dhaka", "Bangladesh", "Asia/Dhaka" },
	{ "Colombo", "Sri Lanka", "Asia/Colombo" },
};

static const char *const ea_first[] = { "Wei", "Mei", "Hiroshi", "Yuki", "Min-jun", "Ji-woo",
					"Kenta", "Sakura", "Jun", "Xin", "Haruto", "Seo-yeon" };
static const char *const ea_last[] = { "Wang", "Li", "Zhang", "Chen", "Tanaka", "Suzuki",
				       "Sato", "Kim", "Park", "Lee", "Lin", "Huang" };
static const struct place ea_places[] = {
	{ "Tokyo", "Japan", "Asia/Tokyo" },	     { "Osaka", "Japan", "Asia/Tokyo" },
	{ "Seoul", "South Korea", "Asia/Seoul" },    { "Taipei", "Taiwan", "Asia/Taipei" },
	{ "Hong Kong", "Hong Kong", "Asia/Hong_Kong" }, { "Shanghai", "China", "Asia/Shanghai" },
};

static const char *const sea_first[] = { "Minh", "Linh", "Anh", "Thanh", "Putri", "Budi",
					 "Siti", "Rizky", "Joshua", "Angelica", "Nattapong",
					 "Siriporn" };
static const char *const sea_last[] = { "Nguyen", "Tran", "Le", "Pham", "Santoso", "Wijaya",
					"Pratama", "Reyes", "Cruz", "Santos", "Wong", "Tan" };
static const struct place sea_places[] = {
	{ "Ho Chi Minh City", "Vietnam", "Asia/Ho_Chi_Minh" },
	{ "Hanoi", "Vietnam", "Asia/Ho_Chi_Minh" },
	{ "Singapore", "Singapore", "Asia/Singapore" },
	{ "Jakarta", "Indonesia", "Asia/Jakarta" },
	{ "Denpasar", "Indonesia", "Asia/Makassar" },
	{ "Manila", "Philippines", "Asia/Manila" },
	{ "Bangkok", "Thailand", "Asia/Bangkok" },
	{ "Kuala Lumpur", "Malaysia", "Asia/Kuala_Lumpur" },
};

static const char *const af_first[] = { "Chinedu", "Amara", "Tunde", "Ngozi", "Kwame", "Abena",
					"Wanjiru", "Kamau", "Thabo", "Lerato", "Yusuf", "Fatima" };
static const char *const af_last[] = { "Okafor", "Adeyemi", "Mensah", "Boateng", "Otieno",
				       "Mwangi", "Nkosi", "Dlamini", "Abubakar", "Eze", "Osei",
				       "Kiplagat" };
static const struct place af_places[] = {
	{ "Lagos", "Nigeria", "Africa/Lagos" },		{ "Abuja", "Nigeria", "Africa/Lagos" },
	{ "Accra", "Ghana", "Africa/Accra" },		{ "Nairobi", "Kenya", "Africa/Nairobi" },
	{ "Cape Town", "South Africa", "Africa/Johannesburg" },
	{ "Johannesburg", "South Africa", "Africa/Johannesburg" },
	{ "Kigali", "Rwanda", "Africa/Kigali" },	{ "Cairo", "Egypt", "Africa/Cairo" },
};

static const char *const me_first[] = { "Omar", "Layla", "Yousef", "Noor", "Amir", "Dana",
					"Tariq", "Rania", "Eitan", "Noa", "Emre", "Elif" };
static const char *const me_last[] = { "Haddad", "Khalil", "Mansour", "Nasser", "Cohen", "Levi",
				       "Yilmaz", "Demir", "Farouk", "Saleh", "Aziz", "Kaya" };
static const struct place me_places[] = {
	{ "Dubai", "United Arab Emirates", "Asia/Dubai" },
	{ "Abu Dhabi", "United Arab Emirates", "Asia/Dubai" },
	{ "Tel Aviv", "Israel", "Asia/Jerusalem" },
	{ "Istanbul", "Türkiye", "Europe/Istanbul" },
	{ "Amman", "Jordan", "Asia/Amman" },
	{ "Riyadh", "Saudi Arabia", "Asia/Riyadh" },
	{ "Beirut", "Lebanon", "Asia/Beirut" },
};

#define REGION(n, f, l, p, lang) { n, f, COUNT(f), l, COUNT(l), p, COUNT(p), lang }

const struct region gen_regions[] = {
	REGION("Western Europe", we_first, we_last, we_places, "French"),
	REGION("Eastern Europe", ee_first, ee_last, ee_places, "Ukrainian"),
	REGION("Latin America", la_first, la_last, la_places, "Spanish"),
	REGION("North America", na_first, na_last, na_places, "Spanish"),
	REGION("South Asia", sa_first, sa_last, sa_places, "Hindi"),
	REGION("East Asia", ea_first, ea_last, ea_places, "Japanese"),
	REGION("Southeast Asia", sea_first, sea_last, sea_places, "Vietnamese"),
	REGION("Africa", af_first, af_last, af_places, "Swahili"),
	REGION("Middle East", me_first, me_last, me_places, "Arabic"),
};
const size_t gen_nregions = COUNT(gen_regions);

/* ---- skills and roles ---- */

const char *const gen_skills[] = {
	"Rust", "Solidity", "Go", "TypeScript", "JavaScript", "Python", "C++", "Java", "Kotlin",
	"Swift", "Scala", "Elixir", "Haskell", "Move", "Cairo", "Vyper", "React", "Next.js",
	"Vue.js", "Svelte", "Node.js", "GraphQL", "REST APIs", "gRPC", "PostgreSQL", "MySQL",
	"MongoDB", "Redis", "Kafka", "RabbitMQ", "Elasticsearch", "Kubernetes", "Docker",
	"Terraform", "AWS", "GCP", "Azure", "Linux", "CI/CD", "GitHub Actions", "Prometheus",
	"Grafana", "Ethereum", "EVM", "Solana", "Anchor", "Cosmos SDK", "Substrate", "Bitcoin",
	"Layer 2", "Zero-Knowledge Proofs", "Cryptography", "Smart Contract Auditing", "Foundry",
	"Hardhat", "ethers.js", "viem", "wagmi", "The Graph", "IPFS", "libp2p", "DeFi", "NFTs",
	"MEV", "Tokenomics", "Machine Learning", "PyTorch", "LLMs", "Data Engineering", "dbt",
	"Apache Spark", "Airflow", "SQL", "Figma", "UX Research", "Product Management",
	"Technical Writing", "Developer Relations", "Community Management", "Growth Marketing",
	"Content Marketing", "Business Development", "Agile/Scrum", "System Design",
	"Distributed Systems", "Security", "Penetration Testing", "Tailwind CSS", "WebAssembly",
};
const size_t gen_nskills = COUNT(gen_skills);

const char *const gen_categories[] = {
	"Engineering", "Product", "Design", "Data & AI", "Security", "DevRel & Community",
	"Marketing & Growth", "Business Development", "Operations",
};
const size_t gen_ncategories = COUNT(gen_categories);

const char *const gen_levels[] = {
	"Junior (0-2 years)", "Mid-level (2-5 years)", "Senior (5-8 years)",
	"Lead / Principal (8+ years)",
};
const size_t gen_nlevels = COUNT(gen_levels);

const char *const gen_job_statuses[] = {
	"Lead", "Joined Talent Pool", "Actively looking", "In interview process", "Hired",
	"No interest", "Unresponsive", "Fraud", "Recently Hired (not STT)",
};
const size_t gen_njob_statuses = COUNT(gen_job_statuses);

const char *const gen_ats_statuses[] = {
	"Sourcing", "Initial Recruiting", "Ongoing Recruiting", "Client Introduction",
	"In Interview", "Offer", "Probation period", "Hired", "On Hold", "Backlog",
	"Position closed", "Disqualified",
};
const size_t gen_nats_statuses = COUNT(gen_ats_statuses);

const char *const gen_work_setups[] = { "Remote", "Remote (timezone overlap)", "Hybrid",
					"On-site" };
const size_t gen_nwork_setups = COUNT(gen_work_setups);

const struct archetype gen_archetypes[] = {
	{ "Smart Contract Engineer", "Engineering", { "Smart Contract Engineer", "Blockchain Engineer" },
	  { "Solidity", "EVM", "Foundry", "Hardhat", "DeFi", "Ethereum", "Smart Contract Auditing",
	    "Vyper", "ethers.js", "TypeScript", "Layer 2", "Security" },
	  "DeFi protocols and on-chain markets",
	  { "Senior Smart Contract Engineer", "Solidity Engineer", "Lead Protocol Developer (EVM)" },
	  { "Wrote the {s1} contracts behind a lending market that grew to ${n}M in deposits",
	    "Cut gas costs by {n}% across the core {s1} contracts at {co}",
	    "Shipped an upgradeable vault system tested with {s2} invariant suites" },
	  { "Designed and shipped upgradeable contracts for lending and AMM pools",
	    "Wrote fuzz and invariant tests that caught two critical bugs before audit",
	    "Worked with external auditors and fixed every high-severity finding",
	    "Built deployment scripts and monitoring for mainnet releases",
	    "Reviewed pull requests and mentored two junior Solidity developers",
	    "Integrated oracles and cross-chain messaging into the protocol" },
	  1 },
	{ "Protocol Engineer", "Engineering", { "Protocol Engineer", "Blockchain Engineer", "Backend Engineer" },
	  { "Rust", "Go", "Distributed Systems", "libp2p", "Cryptography", "Zero-Knowledge Proofs",
	    "Cosmos SDK", "Substrate", "Ethereum", "Linux", "System Design", "C++" },
	  "consensus, networking and execution layers",
	  { "Senior Protocol Engineer (Rust)", "Core Developer, Consensus", "Staff Engineer, Networking" },
	  { "Implemented a {s1} block-sync protocol that cut node catch-up time by {n}%",
	    "Maintained the peer-to-peer layer of a network with {n}00 validators",
	    "Co-authored a zk proving pipeline in {s1} used in production at {co}" },
	  { "Implemented consensus and mempool changes in a production client",
	    "Profiled and optimised block processing, halving p99 latency",
	    "Wrote specifications and reviewed protocol improvement proposals",
	    "Built devnets and chaos tests for network upgrades",
	    "Debugged state-sync and peer-scoring issues on mainnet",
	    "Collaborated with researchers on cryptographic primitives" },
	  1 },
	{ "Backend Engineer", "Engineering", { "Backend Engineer", "Full-Stack Engineer" },
	  { "Go", "PostgreSQL", "Kafka", "gRPC", "Redis", "Kubernetes", "Docker", "AWS", "REST APIs",
	    "System Design", "Python", "Rust" },
	  "high-throughput APIs and data pipelines",
	  { "Senior Backend Engineer (Go)", "Backend Engineer, Payments", "Staff Backend Engineer" },
	  { "Scaled a {s1} API from 2k to {n}0k requests per second at {co}",
	    "Moved an order pipeline to {s2} with exactly-once processing",
	    "Reduced cloud costs by {n}% by redesigning the {s2} storage layer" },
	  { "Built and operated services handling millions of requests per day",
	    "Designed database schemas and migrations with zero downtime",
	    "Introduced tracing and SLOs for every customer-facing endpoint",
	    "Led the split of a monolith into event-driven services",
	    "Wrote on-call runbooks and led incident reviews",
	    "Integrated indexers and RPC providers for on-chain data" },
	  1 },
	{ "Frontend Engineer", "Engineering", { "Frontend Engineer", "Full-Stack Engineer" },
	  { "TypeScript", "React", "Next.js", "JavaScript", "GraphQL", "Tailwind CSS", "viem",
	    "wagmi", "Vue.js", "Svelte", "Figma", "Node.js" },
	  "wallet-connected web apps and design systems",
	  { "Senior Frontend Engineer (React)", "Frontend Engineer, Wallet UX", "Lead Frontend Engineer" },
	  { "Rebuilt the {s1} trading interface used by {n}0k monthly users at {co}",
	    "Built a design system in {s2} adopted by four product teams",
	    "Raised the Lighthouse score of a {s1} dApp from 40 to {n}" },
	  { "Built responsive trading and portfolio interfaces",
	    "Integrated wallets, transaction signing and error recovery flows",
	    "Created a component library with accessibility baked in",
	    "Worked with designers on prototypes and user testing",
	    "Set up end-to-end tests and visual regression checks",
	    "Improved bundle size and time-to-interactive across the app" },
	  1 },
	{ "Full-Stack Engineer", "Engineering", { "Full-Stack Engineer", "Backend Engineer", "Frontend Engineer" },
	  { "TypeScript", "React", "Node.js", "PostgreSQL", "GraphQL", "Next.js", "Docker", "AWS",
	    "Solidity", "ethers.js", "Redis", "REST APIs" },
	  "consumer products from database to browser",
	  { "Senior Full-Stack Engineer", "Founding Full-Stack Engineer", "Full-Stack Engineer (TypeScript)" },
	  { "Launched a {s1} marketplace from zero to {n}k users as the first engineer at {co}",
	    "Built the {s2} backend and {s1} frontend of an NFT ticketing product",
	    "Shipped {n} product features in a quarter with a two-person team" },
	  { "Owned features end to end, from schema to UI",
	    "Built a GraphQL gateway over several internal services",
	    "Set up CI/CD and preview environments for every pull request",
	    "Integrated payments, on-chain and off-chain",
	    "Worked directly with founders on product decisions",
	    "Ran user interviews and turned feedback into roadmap items" },
	  1 },
	{ "DevOps / SRE Engineer", "Engineering", { "DevOps / SRE", "Backend Engineer" },
	  { "Kubernetes", "Terraform", "AWS", "GCP", "Docker", "Linux", "Prometheus", "Grafana",
	    "CI/CD", "GitHub Actions", "Go", "Python" },
	  "infrastructure, reliability and node operations",
	  { "Senior SRE", "DevOps Engineer, Node Infrastructure", "Platform Engineer (Kubernetes)" },
	  { "Ran {n}0 validator and RPC nodes at 99.99% uptime with {s1} and {s2}",
	    "Cut deploy time from 40 to {n} minutes with a new {s2} pipeline at {co}",
	    "Moved {co} from hand-built servers to {s1} without downtime" },
	  { "Managed Kubernetes clusters across two clouds",
	    "Wrote Terraform modules for every environment",
	    "Built alerting and dashboards that halved time to detect incidents",
	    "Automated node upgrades and key management",
	    "Led the incident response rotation",
	    "Hardened CI runners and supply-chain security" },
	  1 },
	{ "Data Engineer", "Data & AI", { "Data Engineer", "Data Analyst" },
	  { "Python", "SQL", "dbt", "Apache Spark", "Airflow", "Kafka", "PostgreSQL", "The Graph",
	    "GCP", "Data Engineering", "Scala", "Elasticsearch" },
	  "on-chain analytics and data platforms",
	  { "Senior Data Engineer", "Analytics Engineer (dbt)", "Data Engineer, On-chain Analytics" },
	  { "Built an on-chain indexing pipeline in {s1} processing {n}M events a day",
	    "Modelled the company's metrics layer in {s2} used by every team at {co}",
	    "Cut warehouse costs by {n}% by rewriting the {s2} jobs" },
	  { "Built batch and streaming pipelines from chain data and product events",
	    "Modelled data in dbt with tests and documentation",
	    "Owned the orchestration of hundreds of daily jobs",
	    "Worked with analysts on dashboards and definitions",
	    "Introduced data contracts with upstream teams",
	    "Tuned warehouse queries and partitioning" },
	  1 },
	{ "Machine Learning Engineer", "Data & AI", { "ML Engineer", "Data Engineer" },
	  { "Python", "PyTorch", "Machine Learning", "LLMs", "SQL", "Kubernetes", "Docker",
	    "Data Engineering", "AWS", "C++", "Rust", "Apache Spark" },
	  "applied machine learning and LLM products",
	  { "Senior ML Engineer", "LLM Engineer", "Machine Learning Engineer, Fraud" },
	  { "Trained and served {s1} models that cut fraud losses by {n}% at {co}",
	    "Built an {s2} retrieval system answering {n}k support questions a month",
	    "Shipped a ranking model that lifted conversion by {n}%" },
	  { "Trained, evaluated and deployed models to production",
	    "Built feature pipelines and offline evaluation sets",
	    "Ran A/B tests and monitored model drift",
	    "Fine-tuned and evaluated language models for internal tools",
	    "Optimised inference latency and cost on GPUs",
	    "Worked with product managers on ML-driven features" },
	  1 },
	{ "Security Engineer", "Security", { "Security Engineer / Auditor", "Smart Contract Engineer" },
	  { "Smart Contract Auditing", "Solidity", "Security", "Penetration Testing", "Rust",
	    "Foundry", "Cryptography", "EVM", "Move", "Cairo", "Zero-Knowledge Proofs", "Go" },
	  "smart contract audits and application security",
	  { "Senior Smart Contract Auditor", "Security Engineer", "Lead Security Researcher" },
	  { "Audited {n} protocols holding over $2B in total value locked",
	    "Found {n} critical vulnerabilities through public bug bounties",
	    "Built {s2}-based fuzzing harnesses now used across {co}" },
	  { "Led manual reviews of lending, bridge and AMM contracts",
	    "Wrote audit reports and proof-of-concept exploits",
	    "Built static analysis rules for recurring bug classes",
	    "Ran threat modelling workshops with client teams",
	    "Responded to live incidents alongside protocol teams",
	    "Taught secure development practices to engineers" },
	  1 },
	{ "Solana Engineer", "Engineering", { "Smart Contract Engineer", "Backend Engineer" },
	  { "Rust", "Solana", "Anchor", "TypeScript", "React", "DeFi", "WebAssembly",
	    "Distributed Systems", "PostgreSQL", "Move", "Node.js", "Security" },
	  "Solana programs and high-throughput trading",
	  { "Senior Solana Engineer (Rust)", "Rust Engineer, Trading Infrastructure", "Solana Program Developer" },
	  { "Wrote {s1} programs settling {n}M trades on Solana at {co}",
	    "Built an {s2} framework extension used by {n} teams",
	    "Designed the on-chain order book of a perpetuals exchange" },
	  { "Wrote and audited Anchor programs",
	    "Built off-chain keepers and liquidation bots",
	    "Optimised compute units across the core programs",
	    "Maintained TypeScript SDKs for integrators",
	    "Monitored programs and responded to incidents",
	    "Reviewed designs for new market types" },
	  1 },
	{ "Product Manager", "Product", { "Product Manager" },
	  { "Product Management", "Agile/Scrum", "UX Research", "SQL", "DeFi", "Tokenomics",
	    "Technical Writing", "Figma", "Growth Marketing", "Business Development", "NFTs",
	    "Layer 2" },
	  "crypto products from discovery to launch",
	  { "Senior Product Manager", "Product Manager, Wallet", "Head of Product" },
	  { "Launched a {s2} product that reached {n}0k users in its first quarter at {co}",
	    "Ran discovery that reshaped the roadmap and doubled retention",
	    "Led a team of {n} engineers through a full rebrand and relaunch" },
	  { "Owned the roadmap and wrote product requirements",
	    "Ran user interviews and usability studies",
	    "Defined metrics and reviewed them weekly with the team",
	    "Coordinated launches with marketing and partners",
	    "Prioritised work across engineering and design",
	    "Presented product strategy to investors and the board" },
	  0 },
	{ "Product Designer", "Design", { "Product Designer" },
	  { "Figma", "UX Research", "Product Management", "Tailwind CSS", "React", "Agile/Scrum",
	    "Technical Writing", "NFTs", "DeFi", "Growth Marketing", "Content Marketing",
	    "JavaScript" },
	  "interfaces that make complex products feel simple",
	  { "Senior Product Designer", "Product Designer, DeFi", "Lead Designer" },
	  { "Redesigned onboarding at {co} and raised activation by {n}%",
	    "Built the {s1} design system used across {n} products",
	    "Ran {n}0 user interviews that shaped the wallet redesign" },
	  { "Designed flows from research to high-fidelity prototypes",
	    "Maintained the design system and its documentation",
	    "Ran usability tests and shared findings with the team",
	    "Worked closely with engineers during implementation",
	    "Designed marketing pages and brand assets",
	    "Mapped user journeys for new products" },
	  0 },
	{ "Developer Relations Engineer", "DevRel & Community", { "Developer Relations", "Technical Writer" },
	  { "Developer Relations", "Technical Writing", "TypeScript", "Solidity", "Community Management",
	    "Content Marketing", "React", "Rust", "Node.js", "Ethereum", "Next.js", "Go" },
	  "developer ecosystems, docs and hackathons",
	  { "Developer Relations Engineer", "Head of DevRel", "Developer Advocate (Solidity)" },
	  { "Grew the developer community at {co} from 2k to {n}k members",
	    "Wrote the {s2} tutorials that became the most read pages of the docs",
	    "Ran {n} hackathons with over a thousand builders in total" },
	  { "Wrote tutorials, guides and sample apps",
	    "Spoke at conferences and ran workshops",
	    "Supported hackathon teams and judged projects",
	    "Collected developer feedback and shared it with product",
	    "Maintained SDK examples and starter kits",
	    "Ran the developer grants programme" },
	  1 },
	{ "Growth Marketer", "Marketing & Growth", { "Growth Marketing", "Community Manager" },
	  { "Growth Marketing", "Content Marketing", "Community Management", "Tokenomics", "SQL",
	    "Business Development", "NFTs", "DeFi", "Product Management", "Technical Writing",
	    "UX Research", "Figma" },
	  "growth loops, campaigns and community",
	  { "Head of Growth", "Growth Marketing Manager", "Community and Growth Lead" },
	  { "Grew {co} from 5k to {n}0k monthly active wallets in a year",
	    "Ran campaigns that brought {n}M in deposits at launch",
	    "Built the referral programme behind a third of new users" },
	  { "Planned and ran launch campaigns",
	    "Managed community channels and ambassadors",
	    "Worked with analysts on attribution and funnels",
	    "Wrote content and newsletters",
	    "Ran partnerships and co-marketing",
	    "Managed a paid acquisition budget" },
	  0 },
	{ "Business Development Lead", "Business Development", { "Business Development", "Product Manager" },
	  { "Business Development", "Tokenomics", "DeFi", "Community Management", "Growth Marketing",
	    "Product Management", "Layer 2", "NFTs", "Content Marketing", "SQL", "Agile/Scrum",
	    "Technical Writing" },
	  "partnerships and ecosystem deals",
	  { "Head of Business Development", "BD Lead, Ecosystem", "Partnerships Manager" },
	  { "Closed {n} integration partnerships for {co} in one year",
	    "Brought in exchange listings worth {n}M in volume",
	    "Built the ecosystem fund's deal pipeline from scratch" },
	  { "Sourced and closed partnerships",
	    "Negotiated integration and listing agreements",
	    "Worked with product on partner requirements",
	    "Represented the company at conferences",
	    "Managed relationships with investors and funds",
	    "Reported pipeline and revenue to leadership" },
	  0 },
};
const size_t gen_narchetypes = COUNT(gen_archetypes);

size_t gen_desired_categories(const char **out, size_t max)
{
	size_t n = 0;

	for (size_t a = 0; a < gen_narchetypes; a++) {
		for (size_t d = 0; d < 3 && gen_archetypes[a].desired[d]; d++) {
			const char *v = gen_archetypes[a].desired[d];
			size_t k;
			for (k = 0; k < n; k++)
				if (strcmp(out[k], v) == 0)
					break;
			if (k == n && n < max)
				out[n++] = v;
		}
	}
	return n;
}

/* ---- companies, events, schools ---- */

const char *const gen_past_companies[] = {
	"Lumen Labs", "Arcadia Finance", "Helix Protocol", "Northwind Chain", "Quanta Systems",
	"Obsidian Wallet", "Tessellate", "Fathom Analytics", "Meridian DAO", "Parallax Networks",
	"Cobalt Pay", "Sierra Rollup", "Vantage Exchange", "Kite Data", "Orbital Games",
	"Bluefin Labs", "Marlin Security", "Cascade Cloud", "Atlas Robotics", "Ember Health",
	"Granite Bank", "Foxglove Media", "Pioneer Logistics", "Nova Telecom",
};
const size_t gen_npast_companies = COUNT(gen_past_companies);

const char *const gen_hiring_companies[] = {
	"Aurora Labs", "Zephyr Finance", "Keystone Protocol", "Nimbus Wallet", "Polaris Chain",
	"Lattice Zero", "Driftwood Games", "Halcyon Data", "Copperline Pay", "Sable Security",
	"Monarch DAO", "Verdant Energy", "Tidal Exchange", "Quill Analytics",
};
const size_t gen_nhiring_companies = COUNT(gen_hiring_companies);

const char *const gen_hackathons[] = {
	"ETHGlobal Lisbon", "ETHGlobal Istanbul", "ETHDenver", "Solana Breakpoint Hackathon",
	"ETHIndia", "Chainlink Spring Hackathon", "ETHGlobal Paris", "Encode Club zk Bootcamp",
	"Cosmoverse Hackathon", "ETHGlobal Bangkok",
};
const size_t gen_nhackathons = COUNT(gen_hackathons);

const char *const gen_universities[] = {
	"University of Lisbon", "TU Munich", "University of Warsaw", "University of São Paulo",
	"University of Toronto", "IIT Bombay", "National University of Singapore",
	"University of Lagos", "Tel Aviv University", "Seoul National University",
	"Universidad de Buenos Aires", "Self-taught (bootcamp and open source)",
};
const size_t gen_nuniversities = COUNT(gen_universities);

const char *const gen_mail_domains[] = { "gmail.com", "proton.me", "outlook.com", "hey.com",
					 "fastmail.com", "icloud.com" };
const size_t gen_nmail_domains = COUNT(gen_mail_domains);

/* ---- names to ASCII ---- */

/* U+0100..U+017F (Latin Extended-A) folded to ASCII letters. */
static const char latin_ext[] =
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjjjkkkllllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/* Two-byte UTF-8 Latin letters folded to ASCII. */
static char fold_latin(unsigned char a, unsigned char b)
{
	static const char map[] = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTsaaaaaaaceeeeiiiidnooooo/ouuuuyty";
	unsigned cp = ((a & 0x1Fu) << 6) | (b & 0x3Fu);

	if (cp >= 0xC0 && cp <= 0xFF)
		return map[cp - 0xC0];
	if (cp >= 0x100 && cp <= 0x17F)
		return latin_ext[cp - 0x100];
	return 0;
}

void gen_ascii_slug(const char *utf8, char sep, char *out, size_t outsz)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t n = 0;
	int pending = 0;

	for (; *s && n + 2 < outsz; s++) {
		char c = 0;
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			c = (char)*s;
		else if (*s >= 'A' && *s <= 'Z')
			c = (char)(*s - 'A' + 'a');
		else if ((*s & 0xE0) == 0xC0 && s[1]) {
			c = fold_latin(s[0], s[1]);
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			s++;
		} else if (*s == ' ' || *s == '-') {
			pending = n > 0;
			continue;
		}
		if (!c || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			continue;
		if (pending && sep) {
			out[n++] = sep;
			pending = 0;
		}
		out[n++] = c;
	}
	out[n] = '\0';
}
